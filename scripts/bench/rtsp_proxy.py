#!/usr/bin/python3
"""A camera whose encoder runs all the time, for the live benchmark (scripts/bench/live.ts).

The simulator's RTSP server hands every new RTSP session a keyframe at once (its media restart
for a new client), which a real camera does not: a viewer there waits for the encoder's next
keyframe (up to one GOP). This proxy pulls each upstream H.264 stream once (rtspsrc over TCP,
latency 0) and re-serves it from one shared, never restarted media: a client that joins gets the
stream from where it is and waits for the next keyframe, as on a real camera.

  rtsp_proxy.py --bind 127.83.1.1 --port 0 /name=rtsp://upstream/... [/name2=...]

Prints "READY <port>" on stdout when it listens; exits when stdin closes (its parent died).
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    Gst.init(None)
    args = sys.argv[1:]
    bind, port, mounts = "127.0.0.1", "0", []
    i = 0
    while i < len(args):
        if args[i] == "--bind":
            bind = args[i + 1]
            i += 2
        elif args[i] == "--port":
            port = args[i + 1]
            i += 2
        else:
            path, url = args[i].split("=", 1)
            mounts.append((path, url))
            i += 1
    server = GstRtspServer.RTSPServer()
    server.set_address(bind)
    server.set_service(port)
    points = server.get_mount_points()
    for path, url in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            '( rtspsrc location="%s" protocols=tcp latency=0 ! rtph264depay ! h264parse config-interval=-1'
            " ! rtph264pay name=pay0 pt=96 config-interval=-1 )" % url
        )
        factory.set_shared(True)
        factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
        points.add_factory(path, factory)
    server.attach(None)
    sys.stdout.write("READY %d\n" % server.get_bound_port())
    sys.stdout.flush()
    loop = GLib.MainLoop()

    def on_stdin(_channel, _condition):
        loop.quit()
        return False

    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, on_stdin)
    loop.run()


if __name__ == "__main__":
    main()

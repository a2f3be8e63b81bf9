#!/usr/bin/python3
"""Shared RTSP server for the camgate camera simulator (one process for every simulated camera).

Serves live GStreamer test streams (videotestsrc -> x264enc / x265enc) on many mount points.
Media are shared between clients and built on demand: nothing is encoded while no client watches.

Usage:
  rtsp_server.py --port 8554 --mount /cam1/ch1/main:H264:1920x1080:25[:pattern] [--mount ...]
  rtsp_server.py --config -      # JSON config on the first stdin line (what the TS side uses)

Config JSON: {"port": 0, "bind": "0.0.0.0", "auth": false, "strictHost": true,
              "mounts": [{"path": "/id/ch1/main", "codec": "H264", "width": 1920, "height": 1080,
                          "fps": 25, "pattern": "ball", "host": "127.20.0.5",
                          "user": "admin", "password": "admin123"}]}

Prints "READY <port>" on stdout once listening (port 0 picks a free port).
Exits when stdin reaches EOF (the parent died or closed it) or when the parent process dies
(PR_SET_PDEATHSIG), so a crashed test never leaves an encoder behind.
"""

import argparse
import ctypes
import json
import signal
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402
except (ImportError, ValueError) as err:  # ValueError: namespace not available
    sys.stderr.write(
        "rtsp_server.py: GStreamer Python bindings missing (%s). Install: apt-get install -y "
        "--no-install-recommends python3-gi gir1.2-gst-rtsp-server-1.0 python3-gst-1.0 "
        "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad "
        "gstreamer1.0-libav gstreamer1.0-rtsp\n" % err
    )
    sys.exit(3)

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Ask the kernel to send SIGTERM when the parent (node) dies, even on SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass  # not Linux/glibc: the stdin EOF watch still covers a dying parent


def parse_mount_arg(text):
    # /path:CODEC:WxH:FPS[:pattern]
    parts = text.split(":")
    if len(parts) < 4:
        raise SystemExit("bad --mount %r, expected /path:H264:1920x1080:25[:pattern]" % text)
    width, height = parts[2].lower().split("x")
    return {
        "path": parts[0],
        "codec": parts[1].upper(),
        "width": int(width),
        "height": int(height),
        "fps": int(parts[3]),
        "pattern": parts[4] if len(parts) > 4 else "ball",
    }


def has_element(name):
    return Gst.ElementFactory.find(name) is not None


def launch_line(mount, with_overlay):
    width, height, fps = int(mount["width"]), int(mount["height"]), int(mount["fps"])
    pattern = mount.get("pattern") or "ball"
    # A moving picture: the ball moves by itself, other patterns scroll horizontally.
    motion = "" if pattern == "ball" else " horizontal-speed=2"
    src = "videotestsrc is-live=true pattern=%s%s ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1" % (
        pattern,
        motion,
        width,
        height,
        fps,
    )
    if with_overlay:
        label = mount["path"].strip("/").replace('"', "")
        src += ' ! timeoverlay text="%s" halignment=left valignment=top font-desc="Sans 18"' % label
    gop = max(1, fps * 2)
    kbps = 4096 if width >= 1280 else 512
    if mount["codec"] == "H265":
        enc = (
            "x265enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
            " ! video/x-h265,profile=main ! rtph265pay name=pay0 pt=96 config-interval=-1" % (gop, kbps // 2)
        )
    else:
        enc = (
            "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
            " ! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1" % (gop, kbps)
        )
    return "( %s ! %s )" % (src, enc)


def local_address(client):
    try:
        sock = client.get_connection().get_read_socket()
        return sock.get_local_address().get_address().to_string()
    except Exception:  # noqa: BLE001 - a vanished socket just means "unknown"
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--mount", action="append", default=[])
    parser.add_argument("--config", help="'-' to read a JSON config from the first stdin line")
    args = parser.parse_args()

    die_with_parent()
    Gst.init(None)

    if args.config == "-":
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)  # parent already gone
        config = json.loads(line)
    elif args.config:
        with open(args.config, encoding="utf-8") as fh:
            config = json.load(fh)
    else:
        config = {"port": args.port, "bind": args.bind, "mounts": [parse_mount_arg(m) for m in args.mount]}
    if not config.get("mounts"):
        raise SystemExit("rtsp_server.py: no mount points")

    with_overlay = has_element("timeoverlay")  # needs the pango plugin, absent on minimal installs
    server = GstRtspServer.RTSPServer()
    server.set_address(config.get("bind", "0.0.0.0"))
    server.set_service(str(config.get("port", 0)))
    mounts = server.get_mount_points()

    auth_enabled = bool(config.get("auth"))
    auth = None
    roles_by_user = {}
    if auth_enabled:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)

    # Mount prefix "/<device id>/" -> the loopback address the device owns (strict host check).
    host_by_prefix = {}
    for mount in config["mounts"]:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(mount, with_overlay))
        factory.set_shared(True)  # one encoder per mount, however many viewers
        factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
        if auth_enabled:
            user, password = mount.get("user", "admin"), mount.get("password", "")
            role = roles_by_user.get(user)
            if role is None:
                role = "role%d" % len(roles_by_user)
                roles_by_user[user] = role
                token = GstRtspServer.RTSPToken()
                token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
                auth.add_digest(user, password, token)
            perms = Gst.Structure.new_from_string(
                "%s, media.factory.access=(boolean)true, media.factory.construct=(boolean)true" % role
            )
            factory.add_role_from_structure(perms)
        mounts.add_factory(mount["path"], factory)
        if mount.get("host"):
            prefix = "/" + mount["path"].strip("/").split("/")[0] + "/"
            host_by_prefix[prefix] = mount["host"]

    strict_host = bool(config.get("strictHost", True)) and bool(host_by_prefix)

    def check_host(client, ctx):
        # A real camera only answers on its own address: a client that follows the wrong
        # (reported, NATed) host must not reach the stream just because we bind 0.0.0.0.
        path = ctx.uri.abspath if ctx.uri is not None else ""
        for prefix, host in host_by_prefix.items():
            if path.startswith(prefix):
                local = local_address(client)
                if local is not None and local != host:
                    return GstRtsp.RTSPStatusCode.NOT_FOUND
                break
        return GstRtsp.RTSPStatusCode.OK

    def on_client_connected(_server, client):
        if strict_host:
            client.connect("pre-describe-request", check_host)
            client.connect("pre-setup-request", check_host)

    server.connect("client-connected", on_client_connected)

    # Sessions of vanished clients are only dropped when someone runs the pool cleanup.
    def cleanup_sessions():
        server.get_session_pool().cleanup()
        return True

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        sys.stderr.write("rtsp_server.py: cannot listen on %s:%s\n" % (config.get("bind"), config.get("port")))
        sys.exit(2)
    GLib.timeout_add_seconds(2, cleanup_sessions)

    def quit_loop(*_args):
        loop.quit()
        return False

    def on_stdin(_channel, condition):
        # Only EOF or an error arrives here after the config line: the parent closed or died.
        data = sys.stdin.buffer.raw.read(4096) if condition & GLib.IO_IN else b""
        if not data:
            loop.quit()
            return False
        return True

    if args.config == "-":
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                          GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, quit_loop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, quit_loop)

    sys.stdout.write("READY %d\n" % server.get_bound_port())
    sys.stdout.flush()
    loop.run()


if __name__ == "__main__":
    main()

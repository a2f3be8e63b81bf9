#!/usr/bin/python3
"""Shared RTSP server for the camgate camera simulator (one process for every simulated camera).

Serves live GStreamer test streams (videotestsrc -> x264enc / x265enc) on many mount points.
Media are shared between clients and built on demand: nothing is encoded while no client watches.

Usage:
  rtsp_server.py --port 8554 --mount /cam1/ch1/main:H264:1920x1080:25[:picture] [--mount ...]
  rtsp_server.py --config -      # JSON config on the first stdin line (what the TS side uses)

Config JSON: {"port": 0, "bind": "0.0.0.0", "auth": false, "strictHost": true,
              "mounts": [{"path": "/id/ch1/main", "codec": "H264", "width": 1920, "height": 1080,
                          "fps": 25, "gop": 50, "picture": "moving", "host": "127.20.0.5",
                          "user": "admin", "password": "admin123"}]}

picture: moving (default) | black | frozen | blue | clock, see launch_line().
fps: frames per second, fractions allowed (12.5 is served as framerate=25/2).
gop: keyframe interval in frames (ONVIF GovLength), the encoder's key-int-max; default fps * 2.

DESCRIBE is cheap, as on a real camera: the first DESCRIBE of a mount builds its media (encoder
and all) to learn the SDP; mounts with the same codec/size/rate/bitrate share parameter sets (the
GOP does not change them), so later DESCRIBEs of any of them are answered from that SDP without
building anything.

Prints "READY <port>" on stdout once listening (port 0 picks a free port).
Exits when stdin reaches EOF (the parent died or closed it) or when the parent process dies
(PR_SET_PDEATHSIG), so a crashed test never leaves an encoder behind.

Commands on stdin after the config line (--config - only), one per line:
  KEYFRAME /<mount path>   the mount's encoder emits a keyframe now (ONVIF SetSynchronizationPoint);
                           ignored when nobody watches the mount (no live media). Answers nothing.
  GOP /<mount path> <frames>
                           the mount's keyframe interval becomes <frames> (ONVIF
                           SetVideoEncoderConfiguration GovLength): media built later use it, and
                           live media of the mount are restarted so the running encoder does too
                           (x264enc/x265enc cannot change key-int-max while playing). Restarting
                           drops the mount's current RTSP clients (their connections close), as a
                           real camera drops its sessions when its encoder settings change; a
                           client reconnects and gets the new interval. Answers nothing.
"""

import argparse
import ctypes
import hashlib
import hmac
import json
import os
import re
import signal
import sys
from fractions import Fraction

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtsp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    gi.require_version("GstVideo", "1.0")
    from gi.repository import GLib, Gst, GstRtsp, GstRtspServer, GstVideo  # noqa: E402
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
    # /path:CODEC:WxH:FPS[:picture]
    parts = text.split(":")
    if len(parts) < 4:
        raise SystemExit("bad --mount %r, expected /path:H264:1920x1080:25[:picture]" % text)
    width, height = parts[2].lower().split("x")
    return {
        "path": parts[0],
        "codec": parts[1].upper(),
        "width": int(width),
        "height": int(height),
        "fps": float(parts[3]),
        "picture": parts[4] if len(parts) > 4 else "moving",
    }


def has_element(name):
    return Gst.ElementFactory.find(name) is not None


# Picture per mount ("picture" in the config): what a picture diagnosis should make of it.
#   moving  scrolling SMPTE bars + a ticking time overlay (the default; a healthy camera)
#   black   pattern=black, no overlay (lens cap, dead sensor)
#   frozen  static 75% colour bars, no overlay: nothing changes from frame to frame (not even
#           the noise patch pattern=smpte has in its bottom right corner)
#   blue    pattern=blue, no overlay (an NVR's "no video" screen)
#   clock   scrolling bars with the wall clock drawn into every frame as a bar code (for latency
#           benchmarks: a viewer decodes it and compares with its own clock), see draw_clock()
PICTURES = ("moving", "black", "frozen", "blue", "clock")

# The clock bar code: CLOCK_BITS bits of the wall time in ms (mod 2^32), most significant first,
# as black (0) / white (1) squares in a row, between a white and a black reference square that
# tell the reader where "white" and "black" are after compression. Squares are width/CLOCK_CELLS
# pixels, drawn at the top left, where nothing else moves much.
CLOCK_BITS = 32
CLOCK_CELLS = 40


def draw_clock(_overlay, ctx, _timestamp, _duration):
    import time

    width = ctx.get_target().get_width()
    cell = max(4, width // CLOCK_CELLS)
    now_ms = int(time.time() * 1000) & 0xFFFFFFFF
    ctx.set_source_rgb(0.5, 0.5, 0.5)
    ctx.rectangle(0, 0, cell * (CLOCK_BITS + 4), cell * 3)
    ctx.fill()
    cells = [1] + [(now_ms >> (CLOCK_BITS - 1 - i)) & 1 for i in range(CLOCK_BITS)] + [0]
    for i, bit in enumerate(cells):
        ctx.set_source_rgb(bit, bit, bit)
        ctx.rectangle(cell * (i + 1), cell, cell, cell)
        ctx.fill()


def launch_line(mount, with_overlay):
    width, height = int(mount["width"]), int(mount["height"])
    # caps want a fraction: 12.5 -> 25/2, 29.97 -> 2997/100.
    rate = Fraction(str(mount["fps"])).limit_denominator(1001)
    picture = mount.get("picture") or "moving"
    if picture not in PICTURES:
        raise SystemExit("rtsp_server.py: unknown picture %r (expected one of %s)" % (picture, ", ".join(PICTURES)))
    if picture in ("moving", "clock"):
        # Scrolling colour bars: moving, colourful and detailed. (pattern=ball, a white ball on
        # black, is what a picture diagnosis rightly calls black/occluded.)
        pattern = "smpte horizontal-speed=2"
    elif picture == "frozen":
        pattern = "smpte75"
    else:
        pattern = picture  # videotestsrc has pattern=black and pattern=blue
    src = "videotestsrc is-live=true pattern=%s ! video/x-raw,format=I420,width=%d,height=%d,framerate=%d/%d" % (
        pattern,
        width,
        height,
        rate.numerator,
        rate.denominator,
    )
    if with_overlay and picture == "moving":
        label = mount["path"].strip("/").replace('"', "")
        src += ' ! timeoverlay text="%s" halignment=left valignment=top font-desc="Sans 18"' % label
    if picture == "clock":
        # cairooverlay draws on BGRx; back to I420 for the encoder.
        src += " ! videoconvert ! cairooverlay name=clock ! videoconvert ! video/x-raw,format=I420"
    gop = mount_gop(mount)
    kbps = stream_kbps(mount)
    if mount["codec"] == "H265":
        enc = (
            "x265enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
            " ! video/x-h265,profile=main ! rtph265pay name=pay0 pt=96 config-interval=-1" % (gop, kbps // 2)
        )
    else:
        enc = (
            "x264enc name=enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=%d"
            " ! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1" % (gop, kbps)
        )
    return "( %s ! %s )" % (src, enc)


def attach_clock(_factory, media):
    overlay = media.get_element().get_by_name("clock")
    if overlay is not None:
        overlay.connect("draw", draw_clock)


def mount_gop(mount):
    """Keyframe interval in frames: the mount's "gop" (GOP command, config), else 2 s of frames."""
    return max(1, int(mount.get("gop") or round(float(mount["fps"]) * 2)))


def stream_kbps(mount):
    return 4096 if int(mount["width"]) >= 1280 else 512


def encoder_key(mount):
    """Mounts with the same key get byte-identical parameter sets, hence the same SDP. The GOP is
    not part of it: x264's SPS/PPS are the same for key-int-max 15, 30 and 400 (checked), and the
    key only shares SDP text, never media (each mount's factory builds its own encoder)."""
    return (mount["codec"], int(mount["width"]), int(mount["height"]), float(mount["fps"]), stream_kbps(mount))


def digest_ok(request, method, user, password):
    """RTSP Digest (RFC 2617, MD5, with or without qop=auth) for the SDP cache's fast path. The
    nonce is not checked against the ones the server issued: a simulator may be lenient there."""
    res, value = request.get_header(GstRtsp.RTSPHeaderField.AUTHORIZATION, 0)
    if res != GstRtsp.RTSPResult.OK or not value or not value.lower().startswith("digest "):
        return False
    params = dict((k.lower(), a if a else b) for k, a, b in re.findall(r'([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))', value[7:]))
    if params.get("username") != user or "nonce" not in params or "response" not in params:
        return False

    def md5(text):
        return hashlib.md5(text.encode("utf-8")).hexdigest()

    ha1 = md5("%s:%s:%s" % (user, params.get("realm", ""), password))
    ha2 = md5("%s:%s" % (method, params.get("uri", "")))
    if params.get("qop"):
        expected = md5("%s:%s:%s:%s:%s:%s" % (ha1, params["nonce"], params.get("nc", ""), params.get("cnonce", ""), params["qop"], ha2))
    else:
        expected = md5("%s:%s:%s" % (ha1, params["nonce"], ha2))
    return hmac.compare_digest(expected, params["response"].lower())


def response_rewriter():
    """A function that turns an RTSP response into a fresh one with another status, or None.

    PyGObject does not expose gst_rtsp_message_init_response() on an existing message (only as
    a constructor), so it is called through ctypes on the message's address. Checked once here:
    when it does not work, the SDP cache stays off and every DESCRIBE builds its media.
    """
    try:
        lib = ctypes.CDLL("libgstrtsp-1.0.so.0")
        init = lib.gst_rtsp_message_init_response
        init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
        init.restype = ctypes.c_int

        def rewrite(message, code, reason):
            m = re.search(r"GstRTSPMessage at (0x[0-9a-fA-F]+)\)", repr(message))
            if not m or init(int(m.group(1), 16), int(code), reason.encode("ascii"), None) != 0:
                raise RuntimeError("cannot rewrite %r" % message)

        res, probe = GstRtsp.rtsp_message_new_response(GstRtsp.RTSPStatusCode.CONTINUE, "Continue", None)
        rewrite(probe, GstRtsp.RTSPStatusCode.OK, "OK")
        if res != GstRtsp.RTSPResult.OK or probe.parse_response()[1] != GstRtsp.RTSPStatusCode.OK:
            return None
        return rewrite
    except (OSError, AttributeError, RuntimeError, TypeError, ValueError) as err:
        sys.stderr.write("rtsp_server.py: SDP cache off (%s)\n" % err)
        return None


def read_first_line(fd):
    """The config line from stdin, read with os.read so that nothing after it (a command the
    parent wrote early) is left in a Python buffer the GLib watch below cannot see.
    Returns (line, rest); line is b"" when stdin hit EOF first."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"", b""
        data += chunk
    line, _, rest = data.partition(b"\n")
    return line, rest


# How KEYFRAME asks the encoder for a keyframe (see force_keyframe): "upstream" sends a
# GstForceKeyUnit event to the encoder's src pad, as a downstream element (or an RTCP PLI through
# the payloader) does; "downstream" pushes the downstream variant into its sink pad.
FORCE_KEY_UNIT = "upstream"


def force_keyframe(media):
    """The encoder of `media` (named "enc" in launch_line) emits an IDR frame, with its parameter
    sets (all_headers), as soon as it can. Returns whether the encoder took the event."""
    enc = media.get_element().get_by_name("enc")
    if enc is None:
        return False
    if FORCE_KEY_UNIT == "downstream":
        event = GstVideo.video_event_new_downstream_force_key_unit(
            Gst.CLOCK_TIME_NONE, Gst.CLOCK_TIME_NONE, Gst.CLOCK_TIME_NONE, True, 0
        )
        return enc.get_static_pad("sink").send_event(event)
    event = GstVideo.video_event_new_upstream_force_key_unit(Gst.CLOCK_TIME_NONE, True, 0)
    return enc.get_static_pad("src").send_event(event)


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

    pending_stdin = b""  # what followed the config line in the same read (commands)
    if args.config == "-":
        line, pending_stdin = read_first_line(sys.stdin.fileno())
        if not line:
            sys.exit(0)  # parent already gone
        config = json.loads(line.decode("utf-8"))
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
    # The default backlog (5) drops SYNs as soon as a few dozen clients connect at once (a
    # health sweep does), and each dropped SYN costs the client a 1 s retransmit.
    server.set_backlog(1024)
    mounts = server.get_mount_points()

    auth_enabled = bool(config.get("auth"))
    auth = None
    roles_by_user = {}
    if auth_enabled:
        auth = GstRtspServer.RTSPAuth()
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        server.set_auth(auth)

    # The live media of each mount (KEYFRAME): added when the factory builds one, dropped when it
    # is unprepared (its last client left; the next client gets a new one). Usually one per mount;
    # two when the media a DESCRIBE built plays on while clients described from the SDP cache
    # share another (the factory keys shared media by request URL: the mount for DESCRIBE, the
    # stream's control URL for SETUP).
    live_media = {}

    def track_media(_factory, media, path):
        live_media.setdefault(path, []).append(media)

        def on_unprepared(gone):
            alive = [m for m in live_media.get(path, []) if m is not gone]
            if alive:
                live_media[path] = alive
            else:
                live_media.pop(path, None)

        media.connect("unprepared", on_unprepared)

    # Mount prefix "/<device id>/" -> the loopback address the device owns (strict host check).
    host_by_prefix = {}
    mount_by_path = {}
    factory_by_path = {}  # GOP: set_launch on the mount's factory
    for mount in config["mounts"]:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(mount, with_overlay))
        factory.set_shared(True)  # one encoder per mount, however many viewers
        factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
        if mount.get("picture") == "clock":
            factory.connect("media-configure", attach_clock)
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
        factory.connect("media-configure", track_media, mount["path"].rstrip("/"))
        mounts.add_factory(mount["path"], factory)
        mount_by_path[mount["path"].rstrip("/")] = mount
        factory_by_path[mount["path"].rstrip("/")] = factory
        if mount.get("host"):
            prefix = "/" + mount["path"].strip("/").split("/")[0] + "/"
            host_by_prefix[prefix] = mount["host"]

    strict_host = bool(config.get("strictHost", True)) and bool(host_by_prefix)

    def request_path(ctx):
        return ctx.uri.abspath if ctx.uri is not None and ctx.uri.abspath else ""

    def check_host(client, ctx):
        # A real camera only answers on its own address: a client that follows the wrong
        # (reported, NATed) host must not reach the stream just because we bind 0.0.0.0.
        if not strict_host:
            return GstRtsp.RTSPStatusCode.OK
        path = request_path(ctx)
        host = host_by_prefix.get("/" + path.strip("/").split("/")[0] + "/")
        if host is not None:
            local = local_address(client)
            if local is not None and local != host:
                return GstRtsp.RTSPStatusCode.NOT_FOUND
        return GstRtsp.RTSPStatusCode.OK

    # The SDP cache. A DESCRIBE the cache can answer is diverted before the server builds any
    # media: pre-describe-request returns a placeholder status (100, never a real answer to
    # DESCRIBE) and notes the answer for that client; send-message, which sees every answer
    # before it is written, turns the placeholder into the 200 with the cached SDP. (Its context
    # argument does not survive introspection, hence the note per client.) Answers to real
    # DESCRIBEs fill the cache; their Content-Base names the mount.
    sdp_by_key = {}
    pending = {}  # client -> (CSeq, Content-Base, SDP) of the DESCRIBE answered from the cache
    CACHED = GstRtsp.RTSPStatusCode.CONTINUE
    rewrite = response_rewriter()

    def pre_describe(client, ctx):
        status = check_host(client, ctx)
        if status != GstRtsp.RTSPStatusCode.OK:
            return status
        mount = mount_by_path.get(request_path(ctx).rstrip("/"))
        sdp = sdp_by_key.get(encoder_key(mount)) if mount is not None else None
        if sdp is None or rewrite is None:
            return GstRtsp.RTSPStatusCode.OK
        if auth_enabled and not digest_ok(ctx.request, "DESCRIBE", mount.get("user", "admin"), mount.get("password", "")):
            return GstRtsp.RTSPStatusCode.OK  # the server's own path sends the 401 challenge
        res, cseq = ctx.request.get_header(GstRtsp.RTSPHeaderField.CSEQ, 0)
        # As the server's own DESCRIBE does: the request URL without its query, ending in "/".
        base = ctx.uri.get_request_uri().split("?", 1)[0]
        pending[client] = (cseq if res == GstRtsp.RTSPResult.OK else "0", base if base.endswith("/") else base + "/", sdp)
        return CACHED

    def on_send_message(client, _ctx, message):
        if message.get_type() != GstRtsp.RTSPMsgType.RESPONSE:
            return
        res, code, _version, _reason = message.parse_response()
        if res != GstRtsp.RTSPResult.OK:
            return
        if code == CACHED and client in pending:
            cseq, base, sdp = pending.pop(client)
            rewrite(message, GstRtsp.RTSPStatusCode.OK, "OK")
            message.add_header(GstRtsp.RTSPHeaderField.CSEQ, cseq)
            message.add_header(GstRtsp.RTSPHeaderField.SERVER, "GStreamer RTSP server")
            message.add_header(GstRtsp.RTSPHeaderField.CONTENT_TYPE, "application/sdp")
            message.add_header(GstRtsp.RTSPHeaderField.CONTENT_BASE, base)
            message.set_body(sdp)
            return
        if code != GstRtsp.RTSPStatusCode.OK:
            return
        res, ctype = message.get_header(GstRtsp.RTSPHeaderField.CONTENT_TYPE, 0)
        if res != GstRtsp.RTSPResult.OK or ctype != "application/sdp":
            return
        res, base = message.get_header(GstRtsp.RTSPHeaderField.CONTENT_BASE, 0)
        url = GstRtsp.RTSPUrl.parse(base)[1] if res == GstRtsp.RTSPResult.OK else None
        mount = mount_by_path.get((url.abspath if url is not None else "").rstrip("/"))
        if mount is None or encoder_key(mount) in sdp_by_key:
            return
        res, body = message.get_body()
        if res == GstRtsp.RTSPResult.OK and body:
            # The SSRC line belongs to that one media; the next media picks its own.
            lines = bytes(body).decode("utf-8", "replace").split("\r\n")
            sdp_by_key[encoder_key(mount)] = "\r\n".join(l for l in lines if not l.startswith("a=ssrc:")).encode("utf-8")

    def on_client_closed(client):
        pending.pop(client, None)

    def on_client_connected(_server, client):
        client.connect("pre-describe-request", pre_describe)
        client.connect("send-message", on_send_message)
        client.connect("closed", on_client_closed)
        if strict_host:
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

    def drop_viewers(path):
        """Restart the live media of the mount at `path`: close the RTSP clients with a session on
        them and remove any session left (a UDP client's session outlives its connection), so the
        media lose their last user and are unprepared; the next client gets a media built from the
        factory's current launch line."""
        medias = list(live_media.get(path, []))
        if not medias:
            return 0

        def uses_media(session):
            return any(sm.get_media() in medias for sm in session.filter(None))

        def per_client(_server, client):
            hit = []

            def per_session(_client, session):
                if uses_media(session):
                    hit.append(session)
                return GstRtspServer.RTSPFilterResult.KEEP

            client.session_filter(per_session)
            return GstRtspServer.RTSPFilterResult.REMOVE if hit else GstRtspServer.RTSPFilterResult.KEEP

        dropped = server.client_filter(per_client)

        def per_pool_session(_pool, session):
            return GstRtspServer.RTSPFilterResult.REMOVE if uses_media(session) else GstRtspServer.RTSPFilterResult.KEEP

        server.get_session_pool().filter(per_pool_session)
        return len(dropped)

    def set_gop(arg):
        parts = arg.split()
        path = parts[0].rstrip("/") if parts else ""
        mount, factory = mount_by_path.get(path), factory_by_path.get(path)
        if mount is None or factory is None or len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
            sys.stderr.write("rtsp_server.py: bad GOP command %r (expected GOP /<mount path> <frames>)\n" % arg[:80])
            return
        if mount_gop(mount) == int(parts[1]):
            return  # nothing changes: no reason to drop the viewers
        mount["gop"] = int(parts[1])
        # Media built from now on (the next client) use the new interval. The SDP cache stays
        # valid: parameter sets do not depend on the GOP (see encoder_key).
        factory.set_launch(launch_line(mount, with_overlay))
        drop_viewers(path)

    def run_command(text):
        verb, _, arg = text.strip().partition(" ")
        if verb == "GOP":
            set_gop(arg.strip())
        elif verb == "KEYFRAME":
            # Nobody watching (no live media): nothing to do, as on a camera whose encoder idles.
            for media in live_media.get(arg.strip().rstrip("/"), []):
                if not force_keyframe(media):
                    sys.stderr.write("rtsp_server.py: the encoder of %s refused the keyframe request\n" % arg.strip())
        elif verb:
            sys.stderr.write("rtsp_server.py: unknown command %r\n" % text[:80])

    stdin_buf = [b""]

    def take_commands(data):
        lines = (stdin_buf[0] + data).split(b"\n")
        stdin_buf[0] = lines.pop()[-4096:]  # an unfinished line waits for its end
        for raw in lines:
            run_command(raw.decode("utf-8", "replace"))

    def on_stdin(_channel, condition):
        # After the config line: commands (KEYFRAME, GOP), else EOF or an error: the parent closed or died.
        data = os.read(sys.stdin.fileno(), 4096) if condition & GLib.IO_IN else b""
        if not data:
            loop.quit()
            return False
        take_commands(data)
        return True

    if pending_stdin:
        take_commands(pending_stdin)

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

#!/usr/bin/env python3
"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving a live videotestsrc as MJPEG/RTP.

usage: rtsp-server.py PORT PATH WIDTH HEIGHT FPS [USER PASS [basic|digest]] [--jpegs DIR]
Port 0 picks a free port. Prints "READY <port>" on stdout once listening. Runs until killed.
--jpegs DIR: instead of encoding a test pattern, send DIR's *.jpg files as they are, in name order and in
a loop, FPS a second (WIDTH and HEIGHT are then the files'): a camera whose encoder costs this machine
nothing, for benchmarks where the server shares the cores with what it measures.
"""
import glob
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def serve_files(factory, directory: str, fps: int) -> None:
    """A live appsrc pushed from a GLib timer: every frame due by the clock (a late tick catches up)."""
    frames = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(directory, "*.jpg")))]
    if not frames:
        raise SystemExit(f"no *.jpg in {directory}")
    factory.set_launch(
        f"( appsrc name=src is-live=true format=time do-timestamp=true caps=image/jpeg,framerate={fps}/1 "
        f"! jpegparse ! rtpjpegpay name=pay0 pt=26 )"
    )

    def configure(_factory, media) -> None:
        src = media.get_element().get_by_name("src")
        started, sent = time.monotonic(), [0]

        def tick() -> bool:
            due = int((time.monotonic() - started) * fps)
            while sent[0] < due:
                if src.emit("push-buffer", Gst.Buffer.new_wrapped(frames[sent[0] % len(frames)])) != Gst.FlowReturn.OK:
                    return False  # the media was torn down
                sent[0] += 1
            return True

        GLib.timeout_add(2, tick)

    factory.connect("media-configure", configure)


def main() -> None:
    args = sys.argv[1:]
    jpegs = None
    if "--jpegs" in args:
        at = args.index("--jpegs")
        jpegs = args[at + 1]
        del args[at : at + 2]
    port, path, width, height, fps = args[0], args[1], int(args[2]), int(args[3]), int(args[4])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    if jpegs:
        serve_files(factory, jpegs, fps)
    else:
        factory.set_launch(
            f"( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
            f"! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
        )
    factory.set_shared(True)
    if len(args) >= 7:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        if len(args) >= 8 and args[7] == "digest":
            # Digest only (RFC 2617, MD5), as most IP cameras ask: gst-rtsp-server >= 1.16,
            # gst_rtsp_auth_add_digest / gst_rtsp_auth_set_supported_methods
            gi.require_version("GstRtsp", "1.0")
            from gi.repository import GstRtsp
            auth.add_digest(args[5], args[6], token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args[5], args[6]), token)
        server.set_auth(auth)
        perms = GstRtspServer.RTSPPermissions()
        perms.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
        perms.add_permission_for_role("user", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
        factory.set_permissions(perms)
    server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        print("ERROR attach failed", flush=True)
        sys.exit(1)
    print(f"READY {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()

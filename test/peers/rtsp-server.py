#!/usr/bin/env python3
"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving a live videotestsrc as MJPEG/RTP.

usage: rtsp-server.py PORT PATH WIDTH HEIGHT FPS [USER PASS [basic|digest]]
Port 0 picks a free port. Prints "READY <port>" on stdout once listening. Runs until killed.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, path, width, height, fps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
        f"! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
    )
    factory.set_shared(True)
    if len(sys.argv) >= 8:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
        if len(sys.argv) >= 9 and sys.argv[8] == "digest":
            # Digest only (RFC 2617, MD5), as most IP cameras ask: gst-rtsp-server >= 1.16,
            # gst_rtsp_auth_add_digest / gst_rtsp_auth_set_supported_methods
            gi.require_version("GstRtsp", "1.0")
            from gi.repository import GstRtsp
            auth.add_digest(sys.argv[6], sys.argv[7], token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(sys.argv[6], sys.argv[7]), token)
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

#!/usr/bin/python3
"""GenICam camera worker for lookout-edge (src/sources/genicam/): one camera, through Aravis.

  arv-worker.py discover            one JSON line: the cameras Aravis finds
  arv-worker.py stream '<json>'     opens the camera the settings name, applies and checks the
                                    settings, and streams records on stdout until stdin closes

Records on stdout (little-endian): a 40-byte header, then `length` bytes of payload.
  magic b'LKGC' | kind u8 (1 frame, 2 message) | 0 u8 | status u16 (Aravis buffer status, 0 ok)
  | width u32 | height u32 | pixel format u32 (PFNC) | frame id u64 | timestamp ns u64 | length u32
A frame's payload is its pixels (none when status is not 0); a message's is UTF-8 JSON with a `type`:
ready (camera and settings in force), stats (every second), error (code, message; the worker exits 3).
stdin takes lines: `trigger` (software trigger), `stop`; end of file stops too.
"""
import json
import queue
import signal
import struct
import sys
import threading
import time

import gi

gi.require_version('Aravis', '0.8')
from gi.repository import Aravis, GLib  # noqa: E402

HEADER = struct.Struct('<4sBBHIIIQQI')
MAGIC = b'LKGC'
KIND_FRAME = 1
KIND_MESSAGE = 2
BUFFERS = 8
POP_TIMEOUT_US = 50_000
STATS_EVERY_S = 1.0

out = sys.stdout.buffer


class WorkerError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def send_message(obj):
    data = json.dumps(obj).encode('utf-8')
    out.write(HEADER.pack(MAGIC, KIND_MESSAGE, 0, 0, 0, 0, 0, 0, 0, len(data)) + data)
    out.flush()


def send_frame(buf):
    status = int(buf.get_status())
    data = buf.get_data() if status == 0 else b''
    header = HEADER.pack(MAGIC, KIND_FRAME, 0, status, buf.get_image_width() if status == 0 else 0,
                         buf.get_image_height() if status == 0 else 0, buf.get_image_pixel_format() if status == 0 else 0,
                         buf.get_frame_id(), buf.get_timestamp(), len(data))
    out.write(header)
    if data:
        out.write(data)
    out.flush()


def discover():
    """GigE Vision and USB3 Vision cameras alike. `address` is what `source.address` takes: a GigE camera's IP;
    for a USB3 camera Aravis reports no address (a placeholder, "USB3"), so its device id, which Camera.new opens."""
    Aravis.update_device_list()
    cameras = []
    for i in range(Aravis.get_n_devices()):
        protocol = Aravis.get_device_protocol(i) or ''
        device_id = Aravis.get_device_id(i) or ''
        cameras.append({
            'id': device_id,
            'vendor': Aravis.get_device_vendor(i) or '',
            'model': Aravis.get_device_model(i) or '',
            'serial': Aravis.get_device_serial_nbr(i) or '',
            'address': device_id if protocol == 'USB3Vision' else Aravis.get_device_address(i) or '',
            'protocol': protocol,
        })
    return cameras


def open_camera(s):
    """By serial (GigE Vision and USB3 Vision cameras alike), or by address: a GigE camera's IP, any Aravis device id."""
    if s.get('serial'):
        Aravis.update_device_list()
        for i in range(Aravis.get_n_devices()):
            if Aravis.get_device_serial_nbr(i) == s['serial']:
                return Aravis.Camera.new(Aravis.get_device_id(i))
        raise WorkerError('SOURCE_UNAVAILABLE', f"no GenICam camera with serial {s['serial']} found")
    try:
        return Aravis.Camera.new(s['address'])
    except GLib.Error as err:
        raise WorkerError('SOURCE_UNAVAILABLE', f"cannot open the GenICam camera at {s['address']}: {err.message}")


def check_range(problems, name, value, bounds, unit=''):
    low, high = bounds
    if value < low or value > high:
        problems.append(f'{name} {value}{unit} is outside what the camera allows ({low:g}..{high:g}{unit})')
        return False
    return True


def enum_values(device, feature):
    try:
        return list(device.dup_available_enumeration_feature_values_as_strings(feature))
    except GLib.Error:
        return []


def apply_settings(cam, s):
    """Applies the settings, checking each against what the camera reports; all problems in one error."""
    device = cam.get_device()
    problems = []
    formats = list(cam.dup_available_pixel_formats_as_strings())
    if s['pixelFormat'] not in formats:
        problems.append(f"pixelFormat {s['pixelFormat']} is not offered by the camera (it offers {', '.join(formats)})")
    else:
        cam.set_pixel_format_from_string(s['pixelFormat'])
    roi = s.get('roi')
    if roi:
        sensor = cam.get_sensor_size()
        ok = check_range(problems, 'roi.width', roi['width'], cam.get_width_bounds())
        ok = check_range(problems, 'roi.height', roi['height'], cam.get_height_bounds()) and ok
        if roi['x'] + roi['width'] > sensor.width or roi['y'] + roi['height'] > sensor.height:
            problems.append(f"roi {roi['width']}x{roi['height']}+{roi['x']}+{roi['y']} does not fit the {sensor.width}x{sensor.height} sensor")
            ok = False
        if ok:
            cam.set_region(roi['x'], roi['y'], roi['width'], roi['height'])
            got = cam.get_region()
            if (got.x, got.y, got.width, got.height) != (roi['x'], roi['y'], roi['width'], roi['height']):
                problems.append(f"roi {roi['width']}x{roi['height']}+{roi['x']}+{roi['y']} was adjusted by the camera to "
                                f'{got.width}x{got.height}+{got.x}+{got.y} (check its increments)')
    if s.get('exposureUs') is not None and check_range(problems, 'exposureUs', s['exposureUs'], cam.get_exposure_time_bounds(), ' µs'):
        cam.set_exposure_time(s['exposureUs'])
    if s.get('gainDb') is not None and check_range(problems, 'gainDb', s['gainDb'], cam.get_gain_bounds(), ' dB'):
        cam.set_gain(s['gainDb'])
    if cam.is_gv_device():
        if s.get('packetSize') is not None:
            bounds = device.get_integer_feature_bounds('GevSCPSPacketSize')
            if check_range(problems, 'packetSize', s['packetSize'], bounds, ' B'):
                cam.gv_set_packet_size(s['packetSize'])
        if s.get('packetDelayNs') is not None:
            cam.gv_set_packet_delay(s['packetDelayNs'])
    elif s.get('packetSize') is not None or s.get('packetDelayNs') is not None:
        kind = 'a USB3 Vision camera' if cam.is_uv_device() else 'not a GigE Vision camera'
        problems.append(f'packetSize and packetDelayNs apply to GigE Vision cameras only; this one is {kind} (leave them out)')
    acq = s['acquisition']
    if acq['mode'] == 'free':
        cam.clear_triggers()
        if s.get('fps') is not None and check_range(problems, 'fps', s['fps'], cam.get_frame_rate_bounds()):
            cam.set_frame_rate(s['fps'])
    else:
        sources = list(cam.dup_available_trigger_sources())
        wanted = 'Software' if acq['mode'] == 'software' else acq['line']
        if wanted not in sources:
            problems.append(f"trigger source {wanted} is not offered by the camera (it offers {', '.join(sources)})")
        else:
            cam.set_trigger(wanted)
            if acq['mode'] == 'hardware':
                activations = enum_values(device, 'TriggerActivation')
                if acq['activation'] not in activations:
                    problems.append(f"trigger activation {acq['activation']} is not offered by the camera (it offers {', '.join(activations) or 'none'})")
                else:
                    device.set_string_feature_value('TriggerActivation', acq['activation'])
    if problems:
        raise WorkerError('SOURCE_SETTINGS_INVALID', '; '.join(problems))
    region = cam.get_region()
    return {
        'pixelFormat': cam.get_pixel_format_as_string(),
        'width': region.width, 'height': region.height, 'x': region.x, 'y': region.y,
        'triggerMode': acq['mode'],
    }


def read_commands(commands):
    for line in sys.stdin:
        commands.put(line.strip())
    commands.put('stop')


def stream(s):
    cam = open_camera(s)
    lost = threading.Event()
    # a GigE camera that stops answering its heartbeat, a USB3 camera unplugged
    cam.get_device().connect('control-lost', lambda *_: lost.set())
    settings = apply_settings(cam, s)
    st = cam.create_stream(None, None)
    payload = cam.get_payload()
    for _ in range(BUFFERS):
        st.push_buffer(Aravis.Buffer.new_allocate(payload))
    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    cam.start_acquisition()
    # ready once acquiring: a software trigger sent from now on makes a frame
    send_message({'type': 'ready', 'camera': {
        'vendor': cam.get_vendor_name(), 'model': cam.get_model_name(), 'serial': cam.get_device_serial_number(),
        'address': s.get('address') or '', 'id': cam.get_device_id()}, 'settings': settings})
    next_stats = time.monotonic()
    try:
        while True:
            while not commands.empty():
                command = commands.get_nowait()
                if command == 'stop':
                    return
                if command == 'trigger':
                    cam.software_trigger()
            if lost.is_set():
                raise WorkerError('SOURCE_UNAVAILABLE', 'lost control of the camera (no heartbeat answer, or unplugged)')
            buf = st.timeout_pop_buffer(POP_TIMEOUT_US)
            if buf is not None:
                send_frame(buf)
                st.push_buffer(buf)
            now = time.monotonic()
            if now >= next_stats:
                next_stats = now + STATS_EVERY_S
                completed, failures, underruns = Aravis.Stream.get_statistics(st)
                stats = {'type': 'stats', 'completed': completed, 'failures': failures, 'underruns': underruns}
                if isinstance(st, Aravis.GvStream):
                    stats['resentPackets'], stats['missingPackets'] = Aravis.GvStream.get_statistics(st)
                send_message(stats)
    finally:
        # a camera left acquiring, or still controlled by us, is not usable by the next worker until its
        # heartbeat times out: stop and release it even when we are asked to end by a signal
        try:
            cam.stop_acquisition()
        except GLib.Error:
            pass
        del st
        del cam


def terminate(*_):
    raise SystemExit(0)


def main():
    signal.signal(signal.SIGTERM, terminate)
    try:
        if len(sys.argv) >= 2 and sys.argv[1] == 'discover':
            send_message({'type': 'cameras', 'cameras': discover()})
        elif len(sys.argv) == 3 and sys.argv[1] == 'stream':
            stream(json.loads(sys.argv[2]))
        else:
            raise WorkerError('INTERNAL', 'usage: arv-worker.py discover | stream <json settings>')
    except WorkerError as err:
        send_message({'type': 'error', 'code': err.code, 'message': str(err)})
        sys.exit(3)
    except GLib.Error as err:
        send_message({'type': 'error', 'code': 'SOURCE_UNAVAILABLE', 'message': err.message})
        sys.exit(3)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""A libtorrent peer for `npm run bench`: one side of the libtorrent reference pair.

usage: libtorrent-peer.py TORRENT SAVE_DIR LISTEN_PORT --seed|--leech

Both sides: TCP only on 127.0.0.1:LISTEN_PORT (uTP off), no DHT, LSD, UPnP or NAT-PMP (they talk
only to the torrent's tracker), no encryption (plain peer wire, as ours), several connections per
IP allowed (every peer of the benchmark is on 127.0.0.1). The seeder takes libtorrent's
high_performance_seed preset.

Prints `version V` first. The seeder checks SAVE_DIR's data, prints `ready` once it seeds, and runs
until SIGTERM or SIGINT. The leecher prints `progress BYTES` (payload received) whenever it grew,
checking every POLL_S seconds, then `complete` once every piece is verified, and exits 0.
Error alerts are printed as `alert MESSAGE`.
"""
import signal
import sys
import time

import libtorrent as lt

POLL_S = 0.05


def session_settings(seed: bool, port: int) -> dict:
    settings = lt.high_performance_seed() if seed else lt.default_settings()
    settings.update({
        'listen_interfaces': f'127.0.0.1:{port}',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'out_enc_policy': int(lt.enc_policy.disabled),
        'in_enc_policy': int(lt.enc_policy.disabled),
        'allow_multiple_connections_per_ip': True,
        'alert_mask': lt.alert.category_t.error_notification,
    })
    return settings


def main() -> int:
    if len(sys.argv) != 5 or sys.argv[4] not in ('--seed', '--leech'):
        print(__doc__, file=sys.stderr)
        return 2
    torrent, save_dir, port, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == '--seed'

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    session = lt.session(session_settings(seed, port))
    handle = session.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save_dir})
    print(f'version {lt.__version__}', flush=True)

    ready = False
    reported = 0
    while not stopping:
        status = handle.status()
        if seed and not ready and status.is_seeding:
            ready = True
            print('ready', flush=True)
        if not seed:
            if status.total_payload_download > reported:
                reported = status.total_payload_download
                print(f'progress {reported}', flush=True)
            if status.is_seeding:
                print('complete', flush=True)
                return 0
        for alert in session.pop_alerts():
            print(f'alert {alert.message()}', flush=True)
        time.sleep(POLL_S)
    return 0


if __name__ == '__main__':
    sys.exit(main())

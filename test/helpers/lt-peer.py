#!/usr/bin/python3
"""A libtorrent peer for shoal's interop tests, driven by its arguments.

usage: lt-peer.py TORRENT SAVE_DIR LISTEN_PORT [--seed] [--connect HOST:PORT] [--timeout S]

Leecher (default): downloads into SAVE_DIR and exits 0 once complete.
--seed: SAVE_DIR already holds the data; checks it and seeds until killed.
Prints one line per state change and, at the end, `done <info hash>`.
DHT, LSD, UPnP, NAT-PMP and uTP are off, so it talks only to the tracker and peers it is given.
"""
import sys
import time

import libtorrent as lt


def main() -> int:
    args = sys.argv[1:]
    torrent, save_dir, port = args[0], args[1], int(args[2])
    seed = '--seed' in args
    connect = args[args.index('--connect') + 1] if '--connect' in args else None
    timeout = float(args[args.index('--timeout') + 1]) if '--timeout' in args else 60.0

    session = lt.session({
        'listen_interfaces': f'127.0.0.1:{port}',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        'announce_to_all_trackers': True,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    info = lt.torrent_info(torrent)
    handle = session.add_torrent({'ti': info, 'save_path': save_dir})
    if connect:
        host, peer_port = connect.rsplit(':', 1)
        handle.connect_peer((host, int(peer_port)))
    print(f'info hash {info.info_hash()}', flush=True)

    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        status = handle.status()
        state = str(status.state)
        if state != last:
            print(f'state {state} progress {status.progress:.3f} peers {status.num_peers}', flush=True)
            last = state
        for alert in session.pop_alerts():
            if alert.category() & lt.alert.category_t.error_notification:
                print(f'alert {alert.message()}', flush=True)
        if not seed and status.is_seeding:
            print(f'done {info.info_hash()} downloaded {status.total_payload_download}', flush=True)
            return 0
        time.sleep(0.1)
    if seed:
        return 0
    print(f'timeout progress {handle.status().progress:.3f}', flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())

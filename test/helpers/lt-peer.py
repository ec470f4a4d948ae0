#!/usr/bin/python3
"""A libtorrent peer for shoal's interop tests, driven by its arguments.

usage: lt-peer.py TORRENT SAVE_DIR LISTEN_PORT [--seed] [--connect HOST:PORT]... [--download-limit B/S]
                  [--linger S] [--timeout S]

Leecher (default): downloads into SAVE_DIR and exits 0 once complete (after --linger seconds).
--seed: SAVE_DIR already holds the data; checks it and seeds until killed.
Prints one line per state change, `peer IP:PORT pex` the first time it is connected to a peer it
learned of from ut_pex, and at the end `traffic IP:PORT down N up M` per peer (payload bytes over
the connection's life) and `done <info hash>`.
DHT, LSD, UPnP, NAT-PMP and uTP are off, so it talks only to the tracker and peers it is given.
"""
import sys
import time

import libtorrent as lt


def main() -> int:
    args = sys.argv[1:]
    torrent, save_dir, port = args[0], args[1], int(args[2])
    seed = '--seed' in args
    connect = [args[i + 1] for i, arg in enumerate(args) if arg == '--connect']
    timeout = float(args[args.index('--timeout') + 1]) if '--timeout' in args else 60.0
    download_limit = int(args[args.index('--download-limit') + 1]) if '--download-limit' in args else 0
    linger = float(args[args.index('--linger') + 1]) if '--linger' in args else 0.0

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
        'download_rate_limit': download_limit,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    info = lt.torrent_info(torrent)
    handle = session.add_torrent({'ti': info, 'save_path': save_dir})
    for address in connect:
        host, peer_port = address.rsplit(':', 1)
        handle.connect_peer((host, int(peer_port)))
    # The v1 info hash, the one shoal uses: for a hybrid v1 + v2 torrent info_hash() is the v2 one, truncated.
    info_hash = info.info_hashes().v1
    print(f'info hash {info_hash}', flush=True)

    deadline = time.time() + timeout
    last = None
    seen_from_pex = set()
    traffic = {}
    done_at = None
    while time.time() < deadline:
        for peer in handle.get_peer_info():
            address = f'{peer.ip[0]}:{peer.ip[1]}'
            if peer.source & lt.peer_info.pex and address not in seen_from_pex:
                seen_from_pex.add(address)
                print(f'peer {address} pex', flush=True)
            down, up = traffic.get(address, (0, 0))
            traffic[address] = (max(down, peer.total_download), max(up, peer.total_upload))
        status = handle.status()
        state = str(status.state)
        if state != last:
            print(f'state {state} progress {status.progress:.3f} peers {status.num_peers}', flush=True)
            last = state
        for alert in session.pop_alerts():
            if alert.category() & lt.alert.category_t.error_notification:
                print(f'alert {alert.message()}', flush=True)
        if not seed and status.is_seeding:
            done_at = done_at or time.time()
            if time.time() >= done_at + linger:
                for address, (down, up) in traffic.items():
                    print(f'traffic {address} down {down} up {up}', flush=True)
                print(f'done {info_hash} downloaded {status.total_payload_download}', flush=True)
                return 0
        time.sleep(0.1)
    if seed:
        return 0
    print(f'timeout progress {handle.status().progress:.3f}', flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())

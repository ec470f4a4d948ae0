#!/usr/bin/python3
"""A libtorrent peer for shoal's interop tests, driven by its arguments.

usage: lt-peer.py TORRENT|MAGNET_URI SAVE_DIR LISTEN_PORT [--seed] [--connect HOST:PORT]... [--download-limit B/S]
                  [--linger S] [--timeout S] [--show-trackers] [--show-fast]
                  [--encryption forced] [--dht-bootstrap HOST:PORT,...] [--listen ADDRESS]

Leecher (default): downloads into SAVE_DIR and exits 0 once complete (after --linger seconds).
Given a magnet URI instead of a .torrent file, it first fetches the metadata from peers (BEP 9:
the --connect peers, the link's own x.pe and tr, and the DHT when on) and prints `metadata received` when it has it.
--seed: SAVE_DIR already holds the data; checks it and seeds until killed.
Prints one line per state change, `peer IP:PORT pex` the first time it is connected to a peer it
learned of from ut_pex, and at the end `traffic IP:PORT down N up M` per peer (payload bytes over
the connection's life) and `done <info hash>`.
--show-trackers also prints, in the order they happen, `tracker reply URL peers N` for each tracker
reply, `tracker error URL MESSAGE` for each failed announce and `connect IP:PORT outgoing|incoming`
for each peer connection made; and `peer IP:PORT source S,...` the first time a peer is seen
connected, S being where libtorrent learned of it (tracker, dht, pex, lsd, resume_data, incoming).
The peers are sampled every 0.1 s, so a connection shorter than that may have no `source` line.
--show-fast prints what libtorrent's peer log says of the Fast extension (BEP 6), as `fast IP:PORT
==>|<== MESSAGE` (==> sent, <== received): the EXTENSIONS line of a handshake whose peer set the
Fast bit, HAVE_ALL, HAVE_NONE, ALLOWED_FAST, REJECT_PIECE, SUGGEST_PIECE; and `peer IP:PORT seed`
the first time a peer is seen with libtorrent's seed flag (peer_info.seed). With it the peers are
sampled every 0.01 s: over loopback a whole download from a seed can take less than 0.1 s, and
libtorrent drops the seed as soon as it is one itself.
DHT, LSD, UPnP, NAT-PMP and uTP are off, so it talks only to the tracker and peers it is given.
--dht-bootstrap HOST:PORT,...: the DHT on instead, joining through those nodes (never the public
routers), tuned for a test DHT on loopback: many nodes share 127.0.0.0/8, so the checks that
would take them for one attacker are off, and each torrent is announced every 5 s.
--listen ADDRESS: the address to listen on (TCP, and UDP for the DHT), 127.0.0.1 by default; any
of 127.0.0.0/8, so that each libtorrent of a test DHT is a host of its own.
--encryption forced: MSE/PE both ways, RC4 only (out_enc_policy and in_enc_policy pe_forced,
allowed_enc_level pe_rc4); without it, libtorrent's default (encryption enabled, not forced).
"""
import sys
import time

import libtorrent as lt


# libtorrent's peer_source_flags_t; the Python binding names all but `incoming` on peer_info.
PEER_SOURCES = {
    'tracker': lt.peer_info.tracker,
    'dht': lt.peer_info.dht,
    'pex': lt.peer_info.pex,
    'lsd': lt.peer_info.lsd,
    'resume_data': lt.peer_info.resume_data,
    'incoming': 0x20,
}


def peer_sources(source: int) -> str:
    """peer_info.source as names ("tracker,pex")."""
    return ','.join(name for name, flag in PEER_SOURCES.items() if source & flag) or 'none'


# What libtorrent's peer log calls the Fast extension's messages.
FAST_MESSAGES = ('HAVE_ALL', 'HAVE_NONE', 'ALLOWED_FAST', 'REJECT_PIECE', 'SUGGEST_PIECE')


def fast_log_line(message: str) -> str:
    """`==> NAME [ ARGS ]` from a peer log line about the Fast extension, or '' for any other."""
    for direction in ('==>', '<=='):
        at = message.find(f'] {direction} ')
        if at < 0:
            continue
        said = message[at + 2:]
        name = said[len(direction) + 1:].split(' ', 1)[0]
        if name in FAST_MESSAGES or (name == 'EXTENSIONS' and 'FAST extension' in said):
            return said
    return ''


def main() -> int:
    args = sys.argv[1:]
    torrent, save_dir, port = args[0], args[1], int(args[2])
    seed = '--seed' in args
    connect = [args[i + 1] for i, arg in enumerate(args) if arg == '--connect']
    timeout = float(args[args.index('--timeout') + 1]) if '--timeout' in args else 60.0
    download_limit = int(args[args.index('--download-limit') + 1]) if '--download-limit' in args else 0
    linger = float(args[args.index('--linger') + 1]) if '--linger' in args else 0.0
    show_trackers = '--show-trackers' in args
    forced = '--encryption' in args and args[args.index('--encryption') + 1] == 'forced'
    show_fast = '--show-fast' in args
    dht_bootstrap = args[args.index('--dht-bootstrap') + 1] if '--dht-bootstrap' in args else ''
    listen = args[args.index('--listen') + 1] if '--listen' in args else '127.0.0.1'

    session = lt.session({
        'listen_interfaces': f'{listen}:{port}',
        'enable_dht': bool(dht_bootstrap),
        **({'dht_bootstrap_nodes': dht_bootstrap, 'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
            'dht_ignore_dark_internet': False, 'dht_announce_interval': 5} if dht_bootstrap else {}),
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        'announce_to_all_trackers': True,
        'download_rate_limit': download_limit,
        **({'out_enc_policy': int(lt.enc_policy.forced), 'in_enc_policy': int(lt.enc_policy.forced),
            'allowed_enc_level': int(lt.enc_level.rc4)} if forced else {}),
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification
        | (lt.alert.category_t.tracker_notification | lt.alert.category_t.connect_notification if show_trackers else 0)
        | (lt.alert.category_t.peer_log_notification if show_fast else 0),
    })
    if torrent.startswith('magnet:'):
        params = lt.parse_magnet_uri(torrent)
        params.save_path = save_dir
        handle = session.add_torrent(params)
        info_hash = params.info_hashes.v1
    else:
        info = lt.torrent_info(torrent)
        handle = session.add_torrent({'ti': info, 'save_path': save_dir})
        # The v1 info hash, the one shoal uses: for a hybrid v1 + v2 torrent info_hash() is the v2 one, truncated.
        info_hash = info.info_hashes().v1
    for address in connect:
        host, peer_port = address.rsplit(':', 1)
        handle.connect_peer((host, int(peer_port)))
    print(f'info hash {info_hash}', flush=True)

    deadline = time.time() + timeout
    last = None
    seen_from_pex = set()
    seen = set()
    seen_seeding = set()
    traffic = {}
    done_at = None
    while time.time() < deadline:
        for peer in handle.get_peer_info():
            address = f'{peer.ip[0]}:{peer.ip[1]}'
            if peer.source & lt.peer_info.pex and address not in seen_from_pex:
                seen_from_pex.add(address)
                print(f'peer {address} pex', flush=True)
            if show_trackers and address not in seen:
                seen.add(address)
                print(f'peer {address} source {peer_sources(peer.source)}', flush=True)
            if show_fast and peer.flags & lt.peer_info.seed and address not in seen_seeding:
                seen_seeding.add(address)
                print(f'peer {address} seed', flush=True)
            down, up = traffic.get(address, (0, 0))
            traffic[address] = (max(down, peer.total_download), max(up, peer.total_upload))
        status = handle.status()
        state = str(status.state)
        if state != last:
            print(f'state {state} progress {status.progress:.3f} peers {status.num_peers}', flush=True)
            last = state
        for alert in session.pop_alerts():
            if isinstance(alert, lt.metadata_received_alert):
                print('metadata received', flush=True)
            elif show_trackers and isinstance(alert, lt.tracker_reply_alert):
                print(f'tracker reply {alert.tracker_url()} peers {alert.num_peers}', flush=True)
            elif show_trackers and isinstance(alert, lt.tracker_error_alert):
                print(f'tracker error {alert.tracker_url()} {alert.message()}', flush=True)
            elif show_trackers and isinstance(alert, lt.peer_connect_alert):
                # The binding gives no direction attribute; the message says "outgoing" or "incoming".
                direction = 'outgoing' if 'outgoing' in alert.message() else 'incoming'
                print(f'connect {alert.endpoint[0]}:{alert.endpoint[1]} {direction}', flush=True)
            elif show_fast and isinstance(alert, lt.peer_log_alert):
                fast = fast_log_line(alert.message())
                if fast:
                    print(f'fast {alert.endpoint[0]}:{alert.endpoint[1]} {fast}', flush=True)
            elif alert.category() & lt.alert.category_t.error_notification:
                print(f'alert {alert.message()}', flush=True)
        if not seed and status.is_seeding:
            done_at = done_at or time.time()
            if time.time() >= done_at + linger:
                for address, (down, up) in traffic.items():
                    print(f'traffic {address} down {down} up {up}', flush=True)
                print(f'done {info_hash} downloaded {status.total_payload_download}', flush=True)
                return 0
        time.sleep(0.01 if show_fast else 0.1)
    if seed:
        return 0
    print(f'timeout progress {handle.status().progress:.3f}', flush=True)
    return 1


if __name__ == '__main__':
    sys.exit(main())

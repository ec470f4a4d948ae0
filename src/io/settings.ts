/**
 * Every default, limit and time-out of shoal in one place. A running peer holds one `Settings`
 * value (the defaults, or the defaults with some numbers replaced) and hands it to whatever needs
 * one: the session to its swarms, the swarm to its connections, so that tests in one process can
 * shrink a time-out for one peer without touching another. Pure modules take the numbers they
 * need as arguments and fall back on `defaultSettings`. `--help` and docs/security-and-limits.md
 * list them. It lives in src/io, the lowest floor, so that every floor may read it
 * (docs/architecture.md).
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;

const defaults = {
  /** Default TCP port: one port carries the peer wire protocol and HTTP (tracker, status). */
  defaultPort: 6881,
  /** Prefix of our peer id (Azureus style: client "SH", version 0.1.0). */
  peerIdPrefix: '-SH0100-',
  /** Client name sent as `v` in the BEP 10 handshake; other shoal peers are recognized by it. */
  clientName: 'shoal 0.1.0',

  /** Largest peer-wire frame accepted (length prefix); a bigger one closes the connection. */
  maxFrameLength: 1 * MiB,
  /** Largest block a peer may request from us (BEP 3 says 16 KiB; clients tolerate up to 128 KiB). */
  maxRequestLength: 128 * KiB,
  /** Size of the blocks we request. */
  blockLength: 16 * KiB,
  /** Largest BEP 10 extended message accepted. */
  maxExtendedMessageLength: 256 * KiB,
  /**
   * Requests kept outstanding at one peer: enough for `requestQueueSeconds` of its rate, between
   * the minimum and maximum depth. A new peer starts at the initial depth and grows by one per
   * block received (slow start) until its rate stops growing.
   */
  requestQueueSeconds: 3,
  minRequestQueueDepth: 2,
  initialRequestQueueDepth: 4,
  maxRequestQueueDepth: 500,
  /**
   * The end game (every missing block requested, nothing new to ask for): a peer is asked for
   * blocks already requested from others only while fewer than this many requests of its own are
   * outstanding, and only up to this many. With 1, as libtorrent does, only an idle peer gets a
   * duplicate, one at a time: a stalled peer's blocks still come, from the others, one by one.
   */
  endgameRequestsPerPeer: 1,
  /** Peers a block is asked of at once in the end game: the first request and one duplicate. */
  endgameMaxPeersPerBlock: 2,
  /** Requests a peer accepts when its BEP 10 handshake names no `reqq` (libtorrent's default). */
  defaultPeerReqq: 250,
  /** `reqq` we advertise: requests a peer may queue at us. One more, and the peer is dropped (it was told). */
  maxIncomingRequests: 500,
  /**
   * Requests that arrive this soon after we choked a peer were in flight when it was choked: they
   * are ignored and not held against it. A peer without BEP 6 gets no REJECT; a Fast peer gets
   * one for every request we do not serve, and this and the next limit do not apply to it.
   */
  chokedRequestGraceMs: 5_000,
  /** Requests a choked peer may send after the grace time before it is dropped for ignoring the choke. */
  maxRequestsWhileChoked: 16,
  /**
   * BEP 6: pieces in the allowed-fast set of each Fast peer, which it may request while we choke
   * it, so that a new peer soon has something to trade. libtorrent's allowed_fast_set_size.
   */
  allowedFastCount: 10,
  /**
   * Requests past maxIncomingRequests that a Fast peer may send in a row, each answered with a
   * REJECT, before it is dropped. One reqq's worth: a peer that overruns the reqq we advertise by
   * that much ignores it, and each REJECT costs us as much as its request cost it, for ever.
   */
  maxRejectedOverQueue: 500,
  /**
   * SUGGEST_PIECEs sent to a Fast peer that becomes interested: pieces in our read cache that it
   * lacks, which cost us no disk read. Also how many of a peer's suggestions are kept (the
   * latest). A few: a suggestion is a hint, and a long list only repeats what HAVEs said.
   */
  maxSuggestions: 4,
  /** An incoming connection that has not sent a complete handshake (or an HTTP request line) by then is closed. */
  handshakeTimeoutMs: 20_000,
  /** An outstanding request not answered in this time is given to another peer, and the peer is snubbed. */
  requestTimeoutMs: 30_000,
  /** Time allowed for an outgoing TCP connection to be established. */
  connectTimeoutMs: 10_000,
  /** A keep-alive is sent after this much silence from our side. */
  keepAliveIntervalMs: 120_000,
  /** A peer from which no message came for this long is dropped (it should send keep-alives every 2 minutes). */
  idleTimeoutMs: 240_000,

  /** Time between rounds of the choker (BEP 3 tit-for-tat). */
  chokeIntervalMs: 10_000,
  /** Time an optimistic unchoke is kept before another peer is drawn. */
  optimisticIntervalMs: 30_000,
  /** Peers unchoked for their rate, besides the one optimistic unchoke. */
  unchokeSlots: 4,
  /** Peers connected this recently count as new in the optimistic draw. */
  newPeerWindowMs: 60_000,
  /** How many times more likely a new peer is to be drawn for the optimistic unchoke. */
  newPeerOptimisticWeight: 3,
  /** Window over which transfer rates are measured (choker, request depth), and its granularity. */
  rateWindowMs: 5_000,
  rateBucketMs: 1_000,

  /** Shortest gap between two ut_pex messages to a client that is not shoal (BEP 11: one a minute; libtorrent disconnects faster senders). */
  pexIntervalMs: 60_000,
  /** Shortest gap between two ut_pex messages to another shoal peer: the broadcast goes out within this batch window. */
  pexShoalIntervalMs: 1_000,
  /** Most entries in `added`, and in `dropped`, of one ut_pex we send (the BEP 11 convention). */
  pexMaxPeersPerMessage: 50,
  /** Most entries per list (added, dropped; IPv4 and IPv6 together) accepted from one received ut_pex; the rest are ignored. BEP 11 senders keep to 50. */
  pexMaxReceivedPeers: 200,

  /** Addresses kept in one swarm's peer list; more (a ut_pex flood, say) are ignored. */
  maxKnownPeersPerSwarm: 2000,

  /** Open peer connections per swarm. */
  maxPeersPerSwarm: 60,
  /**
   * Open peer connections per swarm with one remote IP address. Several peers may share an
   * address (a NAT, or several shoal peers on one machine on different ports, as in the
   * loopback tests: up to 7), so it is above 1; it is per swarm, because two hosts sharing 200
   * torrents rightly hold 200 connections.
   */
  maxPeersPerAddress: 8,
  /** Open peer-wire connections in all (incoming with a complete handshake, outgoing from the moment we dial). */
  maxConnections: 500,
  /**
   * Incoming connections not yet identified (no complete handshake, no HTTP request line yet).
   * When full, the oldest is closed for the newcomer: silent connections cannot lock out real ones.
   */
  maxPendingConnections: 256,
  /** HTTP connections (tracker, status) open at once; more are closed at once. */
  maxHttpConnections: 64,
  /** Addresses and peer ids banned per swarm for sending bad data; the oldest are forgotten beyond this. */
  maxBansPerSwarm: 1_000,

  /** Interval our tracker tells announcing peers to use, in seconds. */
  trackerIntervalS: 60,
  /** Minimum interval our tracker asks for, in seconds. */
  trackerMinIntervalS: 15,
  /** A tracker entry not refreshed for this many intervals is dropped. */
  trackerExpiryIntervals: 3,
  /** Peers returned by our tracker when the announce names no numwant. */
  trackerDefaultNumwant: 50,
  /** Upper bound of numwant. */
  trackerMaxNumwant: 200,
  /**
   * First delay before a failed announce round is retried; doubles up to the maximum. One tracker
   * that failed is also skipped by later rounds for the same doubling delay, but up to
   * `trackerRetryMaxMs` (an hour, as libtorrent), so that a dead tracker in the first tier does not
   * cost every round its `trackerSilentMs` once the round's own back-off is at its maximum.
   */
  announceRetryBaseMs: 5_000,
  announceRetryMaxMs: 300_000,
  trackerRetryMaxMs: 3_600_000,
  /** Shortest re-announce interval we accept from a tracker, whatever it asks. */
  announceMinIntervalMs: 15_000,
  /** Time allowed for the event=stopped announce when stopping. */
  announceStopTimeoutMs: 3_000,
  /** Time allowed for an announce request to a tracker. */
  announceTimeoutMs: 15_000,
  /** Largest tracker response body accepted by the announce client. */
  maxTrackerResponseLength: 1 * MiB,
  /**
   * A tracker silent this long counts as failed for the announce round (BEP 12 tiers): the next
   * one is tried. A UDP tracker's BEP 15 retransmissions go on behind, and a late answer counts.
   */
  trackerSilentMs: 60_000,
  /** Shortest time between two scrapes (BEP 48, BEP 15) of one tracker for one swarm. */
  trackerScrapeIntervalMs: 300_000,
  /**
   * Most torrents in one scrape request: the swarms of one tracker are scraped together
   * (scrape-batches.ts, Transmission's "multiscrape"), over HTTP with BEP 48's `info_hash`
   * repeated, over UDP in one BEP 15 packet (74 at most there). 64 keeps an HTTP scrape's URL
   * within about 4.5 KiB, well under the 8 KiB of request line that many servers take (ours
   * included, httpMaxHeaderBytes).
   */
  maxInfoHashesPerScrape: 64,
  /**
   * How long the first scrape asked of a tracker waits for other swarms' before it asks the gate
   * for a place: the swarms whose scrapes fall due within it share one request.
   */
  scrapeGatherMs: 1_000,
  /**
   * Announces and scrapes to outside trackers out at once, every swarm together (announce-gate.ts):
   * more wait their turn, event=stopped first, then event=completed, then the others, so that a
   * start with thousands of torrents goes out at the pace the trackers answer (libtorrent: 50).
   * A request holds its place until it ends, or for `announceTimeoutMs` at most. The wait does not
   * count towards `trackerSilentMs`; the event=stopped's does count towards `announceStopTimeoutMs`.
   */
  maxConcurrentAnnounces: 50,
  /**
   * Announces and scrapes let out a second at most, in bursts of as many (event=stopped excepted):
   * a start with thousands of torrents reaches its trackers over a minute or two instead of in one
   * burst, and the re-announces stay as spread (Transmission spaces its announces the same way).
   * 0: no pace, only maxConcurrentAnnounces.
   */
  maxAnnouncesPerSecond: 100,
  /** A re-announce comes up to this fraction of the tracker's interval later, drawn each time, so that torrents started together drift apart. */
  announceJitterFraction: 0.1,

  /** Largest request line and headers of an HTTP request on the peer port; more is answered 431 and closed. */
  httpMaxHeaderBytes: 8 * KiB,
  /** Time for a request's headers, from the connection or the previous response; a slower client is answered 408 and closed. */
  httpHeadersTimeoutMs: 10_000,
  /** Time for a client to take its response once the headers are in; one that does not read is closed. */
  httpRequestTimeoutMs: 30_000,
  /**
   * Files served at once by GET /files/... (streams that wait for pieces hold their request this
   * long); one more is answered 503. Each holds at most `fileStreamAheadPieces` pieces urgent.
   */
  maxFileStreams: 8,
  /** Pieces ahead of a stream's position made urgent, so that a player reading on rarely waits. */
  fileStreamAheadPieces: 8,
  /** Sequential mode draws the next piece among this many first candidates, so that the swarm still spreads pieces. */
  sequentialWindowPieces: 4,

  /** Largest .torrent file read. */
  maxTorrentFileLength: 16 * MiB,
  /**
   * Largest info dictionary fetched from peers for a magnet link (BEP 9 `metadata_size`): the
   * same bound as a .torrent file, so any torrent that can be joined by its file can be joined
   * by its magnet, while a peer claiming a gigabyte cannot make us hold one in memory.
   */
  maxMetadataSize: 16 * MiB,
  /** Time a peer has to answer a metadata request before the piece is asked of another peer. */
  metadataRequestTimeoutMs: 10_000,
  /**
   * Metadata requests outstanding at one peer: a few keep a fast peer busy, and leave the
   * other pieces for other peers, so one slow peer cannot hold up the whole fetch.
   */
  metadataRequestsPerPeer: 4,
  /** Largest .magnet file read: one URI with its trackers fits many times over; more is not a magnet link. */
  maxMagnetFileBytes: 64 * KiB,
  /** Deepest nesting of bencoded lists and dictionaries accepted. */
  bencodeMaxDepth: 64,
  /**
   * Longest file or folder name, and longest path below the download folder, in UTF-8 bytes, of
   * a torrent's files (NAME_MAX and PATH_MAX on Linux): a torrent needing more could not be
   * stored and is refused; the bounds also keep the checks of one path small.
   */
  maxFileNameBytes: 255,
  maxFilePathBytes: 4096,

  /** Shared memory for blocks of pieces being downloaded (--buffer-memory); requesting pauses when it is full. */
  blockBufferBytes: 64 * MiB,
  /** Shared memory for pieces read for uploading, kept whole so one disk read serves every peer. */
  readCacheBytes: 16 * MiB,
  /**
   * Downloaded pieces go to the pool to be hashed and written in batches (task-batcher.ts): a
   * piece waits at most this long for others, and a batch leaves once it holds this many pieces
   * or bytes. The wait delays a piece's HAVE by as much, which no peer notices.
   */
  verifyBatchLingerMs: 8,
  verifyBatchMaxPieces: 64,
  verifyBatchMaxBytes: 2 * MiB,
  /**
   * Reads for uploading are batched the same way, but wait only for the reads asked for in the
   * same moment: a peer's request for a piece not yet read, and the read-ahead of the next pieces
   * in its queue (`readAheadPieces`).
   */
  readBatchLingerMs: 0,
  readBatchMaxPieces: 16,
  readBatchMaxBytes: 1 * MiB,
  readAheadPieces: 3,
  /**
   * Resume data files written at once, every swarm together (resume-saver.ts): a stop of 10,000
   * swarms writes them a few at a time instead of holding 10,000 writes in memory together.
   */
  maxConcurrentResumeSaves: 16,

  /**
   * A swarm whose storage failed (a piece not written, resume data not saved: disk full, read-only,
   * a missing file) stops requesting and checks this often whether the cause is gone: free space
   * for `storageRoomPieces` pieces when the disk was full, a test write otherwise.
   */
  storageRetryMs: 5_000,
  storageRoomPieces: 2,
  /** While a storage error lasts, the count of further failures is logged at most this often. */
  storageErrorSummaryMs: 60_000,

  /** Window of the event-loop delay percentile shown in /status. */
  eventLoopWindowMs: 60_000,

  /** Period of the live lines on a terminal, and of the dashboard page's reads of /status. */
  liveViewRefreshMs: 1_000,
  dashboardRefreshMs: 1_000,

  // The UDP port (the TCP port's number): the UDP tracker (BEP 15), later the DHT.
  /** Largest datagram read on the UDP port; a bigger one is dropped unread (BEP 15 packets are far smaller). */
  udpMaxPacketBytes: 2048,
  /**
   * Our UDP tracker's connection ids are a keyed hash of the client's address, port and a time
   * slot of this length, accepted in their slot and the next: an id lives one to two slots (BEP
   * 15: a client uses one for a minute, a tracker accepts it for two).
   */
  udpConnectionIdSlotMs: 60_000,
  /** Longest text of an error packet our UDP tracker sends; a longer reason is cut. */
  udpMaxErrorMessageBytes: 200,
  /**
   * Our UDP tracker client (BEP 15): a request unanswered after base * 2^n ms is sent again, n
   * from 0 up to the maximum (15 s * 2^8 = 3840 s, as BEP 15 says); after that try it has failed.
   */
  udpTrackerRetryBaseMs: 15_000,
  udpTrackerMaxRetries: 8,
  /** A connection id from a UDP tracker is used this long after it came (BEP 15: one minute). */
  udpConnectionIdLifetimeMs: 60_000,

  // Discovery beyond the tracker (DESIGN.md): the DHT (BEP 5) on the UDP port and local service
  // discovery (BEP 14) on a multicast socket of its own, both for torrents that are not private.
  /**
   * Whether the DHT runs when the command line does not say (--no-dht turns it off). Tests that
   * start processes may set it false in SHOAL_TEST_SETTINGS: no test may reach the public routers.
   */
  dhtEnabled: true,
  /** What --dht-bootstrap defaults to: the public routers every mainstream client starts from. */
  dhtBootstrapNodes: 'router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881',
  /**
   * A bootstrap node that does not resolve or answer, while the routing table is empty, is tried
   * again after this delay, doubling up to the maximum: a peer started offline joins the DHT
   * soon after the network comes back, without hammering a resolver meanwhile.
   */
  dhtBootstrapRetryBaseMs: 30_000,
  dhtBootstrapRetryMaxMs: 1_800_000,
  /**
   * Each swarm's get_peers and announce_peer are repeated this often. BEP 5 nodes drop peers
   * not announced again within about half an hour; libtorrent re-announces every 15 minutes.
   */
  dhtAnnounceIntervalMs: 900_000,
  /**
   * While a swarm wants peers (a leecher, a magnet waiting for its metadata), get_peers is also
   * repeated this often between announces; a lookup that found no peer, or an announce that
   * failed, is repeated sooner: after the retry delay, doubling up to the interval, since the
   * first peers of a new swarm often announce a little after we first looked.
   */
  dhtLookupIntervalMs: 300_000,
  dhtLookupRetryBaseMs: 15_000,
  /** Lookups running at once, all swarms together: a peer with hundreds of torrents does not flood the DHT at start. */
  dhtMaxConcurrentLookups: 4,
  /** Peers handed to a swarm from one lookup; the rest are ignored (a node may answer with thousands). */
  dhtMaxPeersPerLookup: 500,
  /** Peers announced to us by others, all info hashes together: the store's bound whatever strangers announce. */
  dhtMaxStoredPeers: 5_000,
  /** A peer announced to us is forgotten after this long unless announced again (BEP 5 leaves it to the node; 30 minutes, as libtorrent). */
  dhtStoredPeerLifetimeMs: 1_800_000,
  /**
   * Largest reply we send: a get_peers reply with more stored peers is cut to fit. One datagram
   * under a common MTU, so that a reply is never fragmented and a forged query cannot make us
   * send much more than it cost.
   */
  dhtMaxReplyBytes: 1_400,
  /**
   * Queries answered per second, from everyone and from one IP address; more are dropped
   * unanswered. A flood then costs us a bounded reply rate (libtorrent limits its DHT upload to
   * 8000 bytes per second by default; 50 small replies are about that).
   */
  dhtMaxQueriesPerSecond: 50,
  dhtMaxQueriesPerSourcePerSecond: 5,
  /** IP addresses whose query rate is tracked; the least recent are forgotten beyond this, so a spoofed flood cannot grow the table. */
  dhtMaxRateSources: 1_024,
  /**
   * Our queries awaiting a reply, and how long one waits: a reply that answers no query of ours
   * (unsolicited, late or forged) is dropped before the DHT engine sees it. k-rpc gives up on a
   * query after about 2 s; the margin covers a slow network.
   */
  dhtMaxOutstandingQueries: 2_048,
  dhtQueryLifetimeMs: 10_000,
  /** Longest token accepted in a reply: it is echoed in our announce_peer (libtorrent's are 4 bytes, ours 20). */
  dhtMaxTokenBytes: 64,
  /** Longest transaction id accepted in a query: it is echoed in our reply (BEP 5: typically 2 bytes). */
  dhtMaxTransactionIdBytes: 16,
  /**
   * The routing table is saved in cache/ this often and at stop, keeping at most dhtSavedNodes
   * nodes heard from within dhtGoodNodeMs (a "good" node in BEP 5's words: 15 minutes).
   */
  dhtSaveIntervalMs: 300_000,
  dhtSavedNodes: 200,
  dhtGoodNodeMs: 900_000,
  /**
   * Whether local service discovery runs when the command line does not say (--no-lsd turns it
   * off); tests set it false in SHOAL_TEST_SETTINGS so that peers of different tests never meet.
   */
  lsdEnabled: true,
  /** BEP 14: each swarm is announced every 5 minutes, and no more than one announcement goes out per minute. */
  lsdAnnounceIntervalMs: 300_000,
  lsdMinPacketIntervalMs: 60_000,
  /** BEP 14: an announcement with several info hashes stays under 1400 bytes (no fragmentation). */
  lsdMaxPacketBytes: 1_400,
  /**
   * Time to live of our announcements: above 1, as BEP 14 suggests, so that they cross the
   * routers of an organisation's network; the group is administratively scoped and stays inside.
   */
  lsdMulticastTtl: 16,
} as const;

type Defaults = typeof defaults;
/** The settings with their types widened (a number or a string, not the literal default), so that a peer may run with others. */
export type Settings = { readonly [K in keyof Defaults]: Defaults[K] extends number ? number : Defaults[K] extends string ? string : Defaults[K] extends boolean ? boolean : Defaults[K] };

/** Settings to replace, each with a value of its default's type (a number, a string, a boolean). */
export type SettingOverrides = { [K in keyof Settings]?: Settings[K] };

export const defaultSettings: Settings = Object.freeze({ ...defaults });

/** Why a set of overrides cannot be applied: a name that is not a setting, or a value that is not a number a setting can take. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/**
 * `base` with the settings named in `overrides` replaced. Throws a SettingsError, with the
 * reason, on an unknown name or a value of another type than the default's; a numeric setting
 * takes only a non-negative finite number.
 */
export function withOverrides(overrides: Readonly<Record<string, unknown>>, base: Settings = defaultSettings): Settings {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in defaults)) throw new SettingsError(`there is no setting "${name}"`);
    const type = typeof merged[name];
    if (type === 'number' && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new SettingsError(`"${name}" must be a non-negative number, got ${JSON.stringify(value)}`);
    }
    if (typeof value !== type) throw new SettingsError(`"${name}" must be a ${type}, got ${JSON.stringify(value)}`);
    merged[name] = value;
  }
  return Object.freeze(merged) as Settings;
}

/**
 * Environment variable that overrides settings of a peer process, as JSON: for tests that start
 * processes and cannot wait minutes for a time-out, or must keep a peer off the public DHT.
 */
export const TEST_SETTINGS_VARIABLE = 'SHOAL_TEST_SETTINGS';

/** The settings of a process whose environment may hold SHOAL_TEST_SETTINGS; throws a SettingsError naming the variable. */
export function settingsFromEnvironment(json: string | undefined): Settings {
  if (json === undefined || json.trim() === '') return defaultSettings;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new SettingsError(`${TEST_SETTINGS_VARIABLE} is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SettingsError(`${TEST_SETTINGS_VARIABLE} must be a JSON object of setting names and values`);
  }
  try {
    return withOverrides(parsed as Record<string, unknown>);
  } catch (error) {
    throw new SettingsError(`${TEST_SETTINGS_VARIABLE}: ${(error as Error).message}`);
  }
}

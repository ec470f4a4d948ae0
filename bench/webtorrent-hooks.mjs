/**
 * Node module hooks for bench/webtorrent-peer.mjs: `webrtc-polyfill`, which WebTorrent 2.8's
 * tracker and peer code import statically, resolves to a module of empty exports. The real one
 * loads node-datachannel's native binary, which npm's --ignore-scripts leaves undownloaded; the
 * benchmark's peers speak TCP only and never open a WebRTC connection.
 */
const NAMES = ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate'];
const NO_WEBRTC = `data:text/javascript,${encodeURIComponent(NAMES.map((name) => `export const ${name} = undefined;`).join('\n'))}`;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'webrtc-polyfill') return { url: NO_WEBRTC, shortCircuit: true };
  return nextResolve(specifier, context);
}

import { Choker, type ChokeDecision, type ChokerPeer } from '../../src/main/swarm/choker.js';

/**
 * A deterministic source of "random" numbers for the optimistic draw: a 31-bit LCG multiplied in
 * 32-bit integer arithmetic, since a float product would lose its low bits and skew the draws.
 */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

/** An interested, choked peer connected long ago, with no rate either way. */
function peer(id: string, fields: Partial<ChokerPeer> = {}): ChokerPeer {
  return { id, interested: true, unchoked: false, downloadRate: 0, uploadRate: 0, connectedAt: -600_000, ...fields };
}

/** What the swarm does with a decision: every peer's `unchoked` follows it. */
function apply(peers: ChokerPeer[], decision: ChokeDecision): void {
  for (const p of peers) p.unchoked = decision.unchoke.has(p.id);
}

/** Regular unchokes: the decision less its optimistic unchoke. */
function regular(decision: ChokeDecision): string[] {
  return [...decision.unchoke].filter((id) => id !== decision.optimistic).sort();
}

describe('Choker regular slots', () => {
  // p1 gives us the least and gets the most from us; p8 the reverse.
  const swarm = (): ChokerPeer[] =>
    [1, 2, 3, 4, 5, 6, 7, 8].map((i) => peer(`p${i}`, { downloadRate: i * 10_000, uploadRate: (9 - i) * 10_000 }));

  test('leeching: the 4 peers that give us most, plus one optimistic among the others', () => {
    const decision = new Choker({ random: seeded(1) }).round('leecher', swarm(), 0);
    expect(regular(decision)).toEqual(['p5', 'p6', 'p7', 'p8']);
    expect(['p1', 'p2', 'p3', 'p4']).toContain(decision.optimistic);
    expect(decision.unchoke.size).toBe(5);
  });

  test('seeding: the 4 peers we upload to fastest, plus one optimistic', () => {
    const decision = new Choker({ random: seeded(1) }).round('seeder', swarm(), 0);
    expect(regular(decision)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(['p5', 'p6', 'p7', 'p8']).toContain(decision.optimistic);
    expect(decision.unchoke.size).toBe(5);
  });

  test('peers that are not interested take no slot and are choked', () => {
    const peers = swarm();
    for (const p of peers.slice(4)) p.interested = false; // the 4 fastest
    peers[7].unchoked = true;
    const decision = new Choker({ random: seeded(2) }).round('leecher', peers, 0);
    expect(regular(decision)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(decision.optimistic).toBeNull();
    expect(decision.unchoke.has('p8')).toBe(false);
  });

  test('a snubbed peer earns no slot by rate, only the optimistic one', () => {
    const peers = swarm().slice(3); // p4..p8
    peers[4].snubbed = true; // p8, the fastest
    const decision = new Choker({ random: seeded(3) }).round('leecher', peers, 0);
    expect(regular(decision)).toEqual(['p4', 'p5', 'p6', 'p7']);
    expect(decision.optimistic).toBe('p8');
  });

  test('fewer interested peers than slots: all unchoked, nobody left to draw', () => {
    const peers = swarm().slice(0, 3);
    const decision = new Choker({ random: seeded(4) }).round('leecher', peers, 0);
    expect([...decision.unchoke].sort()).toEqual(['p1', 'p2', 'p3']);
    expect(decision.optimistic).toBeNull();
  });

  test('ties go to the peer already unchoked, then to the one connected longer ago', () => {
    const peers = [
      peer('young', { connectedAt: -1_000 }),
      peer('old', { connectedAt: -500_000 }),
      peer('current', { connectedAt: -100, unchoked: true }),
      peer('a', { connectedAt: -400_000 }),
      peer('b', { connectedAt: -300_000 }),
    ];
    const decision = new Choker({ random: seeded(5), unchokeSlots: 3 }).round('seeder', peers, 0);
    expect(regular(decision)).toEqual(['a', 'current', 'old']);
  });
});

describe('Choker timing (fake clock)', () => {
  test('a regular round is due at once, then every 10 s, and decisions change only then', () => {
    const choker = new Choker({ random: seeded(6) });
    const peers = [1, 2, 3, 4, 5, 6].map((i) => peer(`p${i}`, { downloadRate: i }));
    const rounds: number[] = [];
    for (let now = 0; now <= 60_000; now += 1_000) {
      // p1 becomes the fastest peer just after the first round.
      if (now === 1_000) peers[0].downloadRate = 100;
      if (!choker.due(now)) continue;
      const decision = choker.round('leecher', peers, now);
      apply(peers, decision);
      rounds.push(now);
      if (now === 0) expect(regular(decision)).toEqual(['p3', 'p4', 'p5', 'p6']);
      else expect(regular(decision)).toEqual(['p1', 'p4', 'p5', 'p6']);
    }
    expect(rounds).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
  });

  test('a round run early pushes the next one a full interval away', () => {
    const choker = new Choker();
    choker.round('leecher', [], 0);
    choker.round('leecher', [], 4_000);
    expect(choker.due(10_000)).toBe(false);
    expect(choker.due(14_000)).toBe(true);
  });

  test('the optimistic unchoke rotates every 30 s, not more often', () => {
    const choker = new Choker({ random: seeded(7) });
    const peers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => peer(`p${i}`, { downloadRate: i > 6 ? i * 1_000 : 0 }));
    const changes: number[] = [];
    let last: string | null = null;
    for (let now = 0; now <= 150_000; now += 1_000) {
      if (!choker.due(now)) continue;
      const decision = choker.round('leecher', peers, now);
      apply(peers, decision);
      expect(decision.optimistic).not.toBeNull();
      expect(regular(decision)).toEqual(['p10', 'p7', 'p8', 'p9']);
      if (decision.optimistic !== last) changes.push(now);
      last = decision.optimistic;
    }
    expect(changes).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000]);
  });

  test('the optimistic slot is refilled at once when its peer leaves, loses interest or earns a regular slot', () => {
    const choker = new Choker({ random: seeded(8) });
    let peers = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => peer(`p${i}`, { downloadRate: i > 4 ? i * 1_000 : 0 }));
    const first = choker.round('leecher', peers, 0).optimistic;
    expect(first).not.toBeNull();

    peers = peers.filter((p) => p.id !== first);
    const second = choker.round('leecher', peers, 10_000).optimistic;
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);

    peers.find((p) => p.id === second)!.interested = false;
    const third = choker.round('leecher', peers, 20_000).optimistic;
    expect(third).not.toBeNull();
    expect([first, second]).not.toContain(third);

    const promoted = peers.find((p) => p.id === third)!;
    promoted.downloadRate = 1_000_000;
    const decision = choker.round('leecher', peers, 30_000);
    expect(regular(decision)).toContain(third);
    expect(decision.optimistic).not.toBeNull();
    expect(decision.optimistic).not.toBe(third);
  });

  test('newly connected peers are 3 times as likely to be drawn', () => {
    const now = 1_000_000;
    const draw = (weight: number): number => {
      const random = seeded(9);
      let fresh = 0;
      const trials = 4_000;
      for (let t = 0; t < trials; t++) {
        const peers = [
          ...[1, 2, 3, 4].map((i) => peer(`fast${i}`, { downloadRate: 1_000_000 })),
          ...[1, 2, 3, 4, 5].map((i) => peer(`old${i}`, { connectedAt: now - 3_600_000 })),
          ...[1, 2, 3, 4, 5].map((i) => peer(`new${i}`, { connectedAt: now - 59_000 })),
        ];
        const decision = new Choker({ random, newPeerOptimisticWeight: weight }).round('leecher', peers, now);
        if (decision.optimistic!.startsWith('new')) fresh++;
      }
      return fresh / trials;
    };
    // Weight 3 for 5 new against 5 old: 15/20 of the draws; weight 1 (the control): half.
    const favoured = draw(3);
    expect(favoured).toBeGreaterThan(0.72);
    expect(favoured).toBeLessThan(0.78);
    const even = draw(1);
    expect(even).toBeGreaterThan(0.47);
    expect(even).toBeLessThan(0.53);
  });
});

describe('Choker admit (between rounds)', () => {
  test('a newly interested peer is unchoked at once while a slot is free', () => {
    const choker = new Choker({ random: seeded(10) });
    const peers = [peer('a', { downloadRate: 5 }), peer('b', { downloadRate: 3 })];
    apply(peers, choker.round('leecher', peers, 0));
    expect(peers.every((p) => p.unchoked)).toBe(true);

    peers.push(peer('c', { connectedAt: 2_000 }));
    const decision = choker.admit('leecher', peers, 2_000);
    expect([...decision.unchoke].sort()).toEqual(['a', 'b', 'c']);
    // Admitting runs no round: the next is still 10 s after the last.
    expect(choker.due(2_000)).toBe(false);
  });

  test('with 4 regular unchokes and no optimistic one, the newcomer becomes the optimistic unchoke', () => {
    const choker = new Choker({ random: seeded(11) });
    const peers = [1, 2, 3, 4].map((i) => peer(`p${i}`, { downloadRate: i }));
    apply(peers, choker.round('leecher', peers, 0));
    peers.push(peer('new', { connectedAt: 3_000 }));
    const decision = choker.admit('leecher', peers, 3_000);
    expect(decision.optimistic).toBe('new');
    expect(decision.unchoke.size).toBe(5);
  });

  test('nobody is admitted when the 4 slots and the optimistic one are taken, and nobody is choked for it', () => {
    const choker = new Choker({ random: seeded(12) });
    const peers = [1, 2, 3, 4, 5, 6].map((i) => peer(`p${i}`, { downloadRate: i }));
    const before = choker.round('leecher', peers, 0);
    apply(peers, before);
    expect(before.unchoke.size).toBe(5);
    expect(peers.some((p) => p.interested && !p.unchoked)).toBe(true);
    peers.push(peer('late', { connectedAt: 4_000, downloadRate: 1_000_000 }));
    const decision = choker.admit('leecher', peers, 4_000);
    expect(decision.unchoke).toEqual(before.unchoke);
    expect(decision.optimistic).toBe(before.optimistic);
  });

  test('a slot freed by a peer losing interest goes to the best waiting peer; a snubbed one only to the optimistic slot', () => {
    const choker = new Choker({ random: seeded(13) });
    const peers = [1, 2, 3, 4, 5].map((i) => peer(`p${i}`, { downloadRate: i * 10 }));
    const before = choker.round('leecher', peers, 0);
    apply(peers, before);
    expect(before.optimistic).toBe('p1');

    peers.find((p) => p.id === 'p5')!.interested = false;
    peers.push(
      peer('snub', { snubbed: true, downloadRate: 1_000 }),
      peer('fresh', { connectedAt: 5_000, downloadRate: 1 }),
    );
    const decision = choker.admit('leecher', peers, 5_000);
    expect(regular(decision)).toEqual(['fresh', 'p2', 'p3', 'p4']);
    expect(decision.optimistic).toBe('p1');
    expect(decision.unchoke.has('snub')).toBe(false);
    expect(decision.unchoke.has('p5')).toBe(false);
  });
});

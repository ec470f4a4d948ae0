/**
 * The role and its change from leecher to seeder on their own: fake peers and fake data that
 * record every step, so the order the contract gives (docs/architecture.md, Roles) is checked.
 */
import { SwarmRole, type RolePeer } from '../../src/main/swarm/role-change.js';
import type { SwarmEvent } from '../../src/main/swarm/swarm-events.js';

class FakePeer implements RolePeer {
  constructor(
    readonly name: string,
    private readonly steps: string[],
    private readonly seeder = false,
  ) {}

  readonly peerPieces = { isComplete: (): boolean => this.seeder };

  wantInterest(interested: boolean): void {
    this.steps.push(`${this.name} interested ${interested}`);
  }

  close(reason: string): void {
    this.steps.push(`${this.name} closed: ${reason}`);
  }
}

function setup(options: { moveFails?: boolean; location?: 'cache' | 'shareable' } = {}) {
  const steps: string[] = [];
  const peers = new Set([new FakePeer('leecher', steps), new FakePeer('seeder', steps, true)]);
  const role = new SwarmRole({
    peers,
    data: {
      location: options.location ?? 'cache',
      shareablePath: '/shareable/x',
      moveToShareable: async () => {
        steps.push('move');
        if (options.moveFails) throw new Error('no room');
      },
    },
    pieceCount: 8,
    releaseRequests: () => void steps.push('release requests'),
    saveResume: async () => void steps.push(`save resume as ${role.role}`),
    reportEvent: (event: SwarmEvent) => void steps.push(`event ${event.kind}`),
    storageFailed: (what: string, error: unknown) => void steps.push(`storage error: ${what}: ${(error as Error).message}`),
    completed: () => void steps.push('completed'),
  });
  return { role, steps };
}

test('becoming a seeder goes in the contract order, and the role changes only after the move', async () => {
  const { role, steps } = setup();
  expect(role.role).toBe('leecher');
  const becoming = role.becomeSeeder();
  expect(role.role).toBe('leecher');
  await becoming;
  expect(role.role).toBe('seeder');
  expect(steps).toEqual([
    'release requests',
    'leecher interested false',
    'seeder interested false',
    'move',
    'event completed',
    'event role-changed',
    'save resume as seeder',
    'seeder closed: both sides are seeders',
    'completed',
  ]);
});

test('a failed move leaves this peer a leecher, reports a storage error, and announces nothing', async () => {
  const { role, steps } = setup({ moveFails: true });
  await role.becomeSeeder();
  expect(role.role).toBe('leecher');
  expect(steps.slice(3)).toEqual(['move', 'storage error: download complete, but moving it into shareable/ failed: no room']);
});

test.each<[string, boolean, 'cache' | 'shareable', boolean, string]>([
  ['complete data still in cache/ moves, and seeds', true, 'cache', true, 'seeder'],
  ['complete data in shareable/ seeds where it is', true, 'shareable', false, 'seeder'],
  ['incomplete data leeches', false, 'cache', false, 'leecher'],
])('at start, %s', async (_name, complete, location, moved, expected) => {
  const { role, steps } = setup({ location });
  expect(await role.start(complete)).toBe(moved);
  expect(steps).toEqual(moved ? ['move'] : []);
  expect(role.role).toBe(expected);
});

test('calls that all see the last piece in make one change, and a seeder is not made one again', async () => {
  const { role, steps } = setup();
  await Promise.all([role.becomeSeeder(), role.becomeSeeder(), role.becomeSeeder()]);
  await role.becomeSeeder();
  expect(steps.filter((step) => step === 'move')).toEqual(['move']);
  expect(steps.filter((step) => step === 'completed')).toEqual(['completed']);
  expect(role.role).toBe('seeder');
});

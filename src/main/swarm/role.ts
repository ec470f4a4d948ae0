/**
 * What this peer is in one swarm: a leecher while it downloads, a seeder once every piece is
 * verified and the data is in shareable/ (docs/architecture.md, Roles). A module of its own so
 * that the swarm's parts (choker, events) can name it without importing the swarm.
 */
export type Role = 'seeder' | 'leecher';

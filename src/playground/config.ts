/**
 * The playground's sample workspace and the config it runs with: a sesame.yml written into the
 * playground's temporary folder and read back through the real loader and schema, so the
 * playground runs on a config Sesame would accept from anyone.
 *
 * Four people: one who asks, two who own the sample database and approve, one admin. Three flows
 * show the ways a request is decided: readonly approved at once for everyone, readwrite approved
 * by an owner, admin approved by an owner and the admin both (approvalMode: all). Durations are
 * short and expiry runs every ten seconds, so a grant can be watched ending.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { SampleDatabase } from './database.ts';
import type { PlaygroundPerson } from './slack/pageRoutes.ts';

export const PLAYGROUND_PEOPLE = [
  { id: 'U0ADA', name: 'Ada Lovelace', role: 'requester', email: 'ada@example.com' },
  { id: 'U0GRACE', name: 'Grace Hopper', role: 'approver', email: 'grace@example.com' },
  { id: 'U0EDSGER', name: 'Edsger Dijkstra', role: 'approver', email: 'edsger@example.com' },
  { id: 'U0BARBARA', name: 'Barbara Liskov', role: 'admin', email: 'barbara@example.com' },
] as const satisfies readonly PlaygroundPerson[];

export const APPROVALS_CHANNEL = { id: 'C0APPROVALS', name: 'db-approvals' } as const;

export const INTEGRATION_NAME = 'sample';

/** The environment variable the config takes the connector's password from. */
export const CONNECTOR_PASSWORD_ENV = 'PLAYGROUND_CONNECTOR_PASSWORD';

const [, owner1, owner2, admin] = PLAYGROUND_PEOPLE;

/** The text of the playground's sesame.yml; the connector's password stays a `${…}` reference. */
export function playgroundConfigText(db: Pick<SampleDatabase, 'host' | 'port' | 'database' | 'connector'>, dir: string): string {
  return `# Written by the playground: a sesame.yml for its own embedded PostgreSQL and Slack stand-in.
slack:
  command: /access
  approvalChannel: ${APPROVALS_CHANNEL.id}
  admins: [${admin.id}]
state:
  sqlite: ${JSON.stringify(join(dir, 'state', 'sesame.db'))}
schedule:
  expire: "*/10 * * * * *"       # every ten seconds, so expiry can be watched
  remind: "*/30 * * * * *"
integrations:
  - name: ${INTEGRATION_NAME}
    type: postgresql
    host: ${db.host}
    port: ${db.port}
    database: ${db.database}
    sslMode: disable             # loopback only; the password still goes through SCRAM
    username: ${db.connector.username}
    password: \${${CONNECTOR_PASSWORD_ENV}}
    customAccessDetails: "The playground's sample database: try the SQL box."
    owners:
      integration: [${owner1.id}, ${owner2.id}]
accessFlows:
  - name: read-anything
    requestors: ["*"]
    targets: [{ integration: ${INTEGRATION_NAME} }]
    permissions: [readonly]
    maxDuration: 1h
    defaultDuration: 2m
    approvers: []                # approved at once
    requireJustification: false
  - name: write-with-an-owner
    requestors: ["*"]
    targets: [{ integration: ${INTEGRATION_NAME}, databases: [${db.database}] }]
    permissions: [readwrite]
    maxDuration: 30m
    defaultDuration: 2m
    approvers: [owner]           # either owner of the integration
    approvalMode: any
    pendingTtl: 15m
  - name: admin-with-everyone
    requestors: ["*"]
    targets: [{ integration: ${INTEGRATION_NAME}, databases: [${db.database}] }]
    permissions: [admin]
    maxDuration: 15m
    defaultDuration: 2m
    approvers: [owner, ${admin.id}]
    approvalMode: all            # an owner and the admin must both approve
    pendingTtl: 15m
`;
}

/** Writes the config into `dir` and loads it through the real loader. */
export function writePlaygroundConfig(db: SampleDatabase, dir: string): { path: string; config: Config; env: NodeJS.ProcessEnv } {
  mkdirSync(join(dir, 'state'), { mode: 0o700 });
  const path = join(dir, 'sesame.yml');
  writeFileSync(path, playgroundConfigText(db, dir), { mode: 0o600 });
  const env = { [CONNECTOR_PASSWORD_ENV]: db.connector.password };
  return { path, config: loadConfig(path, env), env };
}

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { configPathFromEnv, formatConfigPath, loadConfig, parseConfigText } from '../../src/config/load.ts';
import { effectiveSslMode, type Config } from '../../src/config/schema.ts';
import { ConfigError, type ConfigIssue } from '../../src/domain/errors.ts';
import { redact } from '../../src/logger.ts';

/** The config of PRODUCT.md §3, verbatim. */
const PRODUCT_EXAMPLE = `
slack:
  command: /access                 # the slash command this app answers (default /access)
  approvalChannel: C0123ABCD       # optional: every approval request is also posted here
  admins: [U0ADMIN1, ops@example.com, "@platform"]   # Slack IDs, emails, or @usergroup handles
  maxPendingPerPerson: 10          # optional: pending requests one person may have at once

state:
  sqlite: ./data/sesame.db         # default; the embedded store

schedule:                          # cron expressions; a leading seconds field is allowed
  expire: "*/15 * * * * *"         # revoke what has expired          (default every 15 s)
  remind: "0 * * * * *"            # expiry reminders, pending TTLs   (default every minute)
  rotate: "0 0 3 * * *"            # credential rotation              (default daily)
  cleanup: "0 30 3 * * *"          # drop users revoked long ago      (default daily)
  discover: "0 0 * * * *"          # AWS discovery + catalog sync     (default hourly)

integrations:
  - name: local                    # unique; lowercase letters, digits, dashes
    type: postgresql               # any reachable PostgreSQL
    host: 127.0.0.1
    port: 5432
    database: appdb                # database the connector connects to first
    sslMode: verify-full           # disable | allow | prefer | require | verify-ca | verify-full
                                   # (default verify-full; see "the connector's password" in §5)
    sslRootCert: ./rds-ca.pem      # optional CA file for verify-ca / verify-full
    authType: password             # password | iam
    username: sesame_connector     # the connector's own database user
    password: \${LOCAL_PG_PASSWORD} # or secretArn: (a Secrets Manager secret, JSON with username/password)
    userAuth: password             # how people log in: password (default) | iam (rds_iam, AWS only)
    customAccessDetails: "Connect through the office VPN."   # at most 400 characters
    credentialRotationDays: 30     # optional
    userCleanupDays: 7             # optional: drop a person's database user N days after last revocation
    audit: false                   # optional: ingest session logs for the users Sesame manages
    owners:
      integration: [U0BOB]         # fallback approvers (Slack IDs, emails, @usergroups)
      resourceTagKey: owner        # AWS only: the RDS tag whose value names the resource owner

  - name: prod
    type: aws-rds-postgresql       # RDS instance or Aurora cluster
    region: us-east-1
    instanceId: prod-db-1          # or clusterId: prod-aurora
    database: app
    sslMode: verify-full           # the RDS CA bundle is built in
    authType: iam                  # connector signs in with an IAM token (rds-signer)
    username: sesame_connector
    userAuth: iam
    owners: { integration: ["@dba"], resourceTagKey: owner }

discovery:                         # optional: find RDS/Aurora PostgreSQL by tag
  - type: aws-rds
    regions: [us-east-1, eu-west-1]
    secretTagKey: sesame-secret    # tag whose value is the connector's Secrets Manager secret ARN
    defaults: { database: postgres, sslMode: verify-full, owners: { integration: ["@dba"] } }

accessFlows:
  - name: engineers-read
    requestors: ["*"]              # Slack IDs, emails, @usergroup handles, or "*"
    targets:                       # omitted = every integration, discovered ones included
      - integration: local         # may name an integration that discovery has yet to find
                                   # optional narrowing below; omitted = everything in it
        databases: [appdb]
        schemas: [public]
    permissions: [readonly, readwrite]
    maxDuration: 8h
    defaultDuration: 1h
    approvers: [owner]             # owner | integration-owner | Slack ID | email | @usergroup
    approvalMode: any              # any (one approval) | all (one from each approver entry)
    allowSelfApproval: false       # default false
    requireJustification: true     # default true
    pendingTtl: 24h                # unanswered requests expire (default 24h)
  - name: oncall-auto
    requestors: ["@oncall"]
    targets: [{ integration: prod }]
    permissions: [readonly]
    maxDuration: 2h
    approvers: []                  # empty = approved automatically
`;

const ENV = { LOCAL_PG_PASSWORD: 'dummy-local-password' };

/** The smallest useful config: one integration, one flow. Extra YAML is appended as given. */
function minimal(extra = ''): string {
  return `
integrations:
  - name: local
    type: postgresql
    host: db.internal
    database: appdb
    username: sesame_connector
    password: pw-for-tests
accessFlows:
  - name: read
    requestors: ["*"]
    targets: [{ integration: local }]
    permissions: [readonly]
    maxDuration: 2h
${extra}`;
}

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}, fileName?: string): ConfigIssue[] {
  try {
    parseConfigText(text, env, fileName);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return [...err.issues];
  }
  assert.fail('expected the config to be rejected');
}

function messageAt(issues: ConfigIssue[], path: string): string {
  const found = issues.filter((i) => i.path === path);
  assert.equal(found.length, 1, `expected one issue at ${path}, got: ${JSON.stringify(issues, null, 2)}`);
  return found[0]!.message;
}

/** The example configs shipped beside the code. */
const EXAMPLES = ['sesame.example.yml', 'sesame.aws.example.yml'];

/** Every key path of a YAML document, with list indices written as []. */
function keyPaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const v of value) for (const p of keyPaths(v, `${prefix}[]`)) out.add(p);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      for (const p of keyPaths(v, path)) out.add(p);
    }
  }
  return out;
}

describe('config: the keys of PRODUCT.md §3', () => {
  it('accepts the documented example and reads every key', () => {
    const config = parseConfigText(PRODUCT_EXAMPLE, ENV);
    assert.deepEqual(config.slack, {
      command: '/access',
      approvalChannel: 'C0123ABCD',
      admins: ['U0ADMIN1', 'ops@example.com', '@platform'],
      maxPendingPerPerson: 10,
    });
    assert.equal(config.state.sqlite, './data/sesame.db');
    assert.deepEqual(config.schedule, {
      expire: '*/15 * * * * *',
      remind: '0 * * * * *',
      rotate: '0 0 3 * * *',
      cleanup: '0 30 3 * * *',
      discover: '0 0 * * * *',
    });
    const [local, prod] = config.integrations;
    assert.ok(local?.type === 'postgresql' && prod?.type === 'aws-rds-postgresql');
    assert.equal(local.host, '127.0.0.1');
    assert.equal(local.port, 5432);
    assert.equal(local.database, 'appdb');
    assert.equal(local.sslMode, 'verify-full');
    assert.equal(local.sslRootCert, './rds-ca.pem');
    assert.equal(local.authType, 'password');
    assert.equal(local.username, 'sesame_connector');
    assert.equal(local.password, 'dummy-local-password');
    assert.equal(local.userAuth, 'password');
    assert.equal(local.customAccessDetails, 'Connect through the office VPN.');
    assert.equal(local.credentialRotationDays, 30);
    assert.equal(local.userCleanupDays, 7);
    assert.equal(local.audit, false);
    assert.deepEqual(local.owners, { integration: ['U0BOB'], resourceTagKey: 'owner', alsoApprovalChannel: false });
    assert.equal(prod.region, 'us-east-1');
    assert.equal(prod.instanceId, 'prod-db-1');
    assert.equal(prod.authType, 'iam');
    assert.equal(prod.userAuth, 'iam');
    assert.equal(prod.password, undefined);
    assert.deepEqual(prod.owners, { integration: ['@dba'], resourceTagKey: 'owner', alsoApprovalChannel: false });

    const [discovery] = config.discovery;
    assert.equal(discovery?.type, 'aws-rds');
    assert.deepEqual(discovery?.regions, ['us-east-1', 'eu-west-1']);
    assert.equal(discovery?.secretTagKey, 'sesame-secret');
    assert.equal(discovery?.defaults.database, 'postgres');
    assert.equal(discovery?.defaults.sslMode, 'verify-full');
    assert.deepEqual(discovery?.defaults.owners, { integration: ['@dba'], alsoApprovalChannel: false });

    const [read, oncall] = config.accessFlows;
    assert.deepEqual(read?.targets, [{ integration: 'local', databases: ['appdb'], schemas: ['public'] }]);
    assert.deepEqual(read?.permissions, ['readonly', 'readwrite']);
    assert.equal(read?.maxDuration, 8 * 60);
    assert.equal(read?.defaultDuration, 60);
    assert.deepEqual(read?.approvers, ['owner']);
    assert.equal(read?.approvalMode, 'any');
    assert.equal(read?.allowSelfApproval, false);
    assert.equal(read?.requireJustification, true);
    assert.equal(read?.pendingTtl, 24 * 60);
    assert.deepEqual(oncall?.requestors, ['@oncall']);
    assert.deepEqual(oncall?.approvers, []);
    assert.equal(oncall?.maxDuration, 120);
  });

  it('sesame.example.yml and sesame.aws.example.yml load, and together show every key of §3', () => {
    const exampleKeys = new Set<string>();
    for (const file of EXAMPLES) {
      assert.ok(loadConfig(file, { LOCAL_PG_PASSWORD: 'dummy' }).integrations.length >= 1, file);
      for (const key of keyPaths(parseDocument(readFileSync(file, 'utf8')).toJS())) exampleKeys.add(key);
    }
    const productKeys = keyPaths(parseDocument(PRODUCT_EXAMPLE).toJS());
    const missing = [...productKeys].filter((k) => !exampleKeys.has(k));
    assert.deepEqual(missing, [], 'keys of PRODUCT.md §3 that neither example shows');
  });

  it('sesame.example.yml needs no AWS: one postgresql integration, its password from the environment', () => {
    const config = loadConfig('sesame.example.yml', { LOCAL_PG_PASSWORD: 'the-password' });
    assert.deepEqual(
      config.integrations.map((i) => [i.name, i.type, i.password]),
      [['local', 'postgresql', 'the-password']],
    );
    assert.deepEqual(config.discovery, []);
    assert.match(readFileSync('sesame.example.yml', 'utf8'), /password: \$\{LOCAL_PG_PASSWORD\}/);
    assert.throws(() => loadConfig('sesame.example.yml', {}), /LOCAL_PG_PASSWORD is not set/);
    const aws = loadConfig('sesame.aws.example.yml', {});
    assert.ok(aws.integrations.every((i) => i.type === 'aws-rds-postgresql'));
    assert.equal(aws.discovery.length, 1);
  });

  it('fills in the documented defaults', () => {
    const config = parseConfigText(
      `${minimal()}
  - name: rds-read
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 1h
discovery:
  - type: aws-rds
    regions: [us-east-1]
    secretTagKey: sesame-secret
`,
      {},
    );
    assert.deepEqual(config.slack, { command: '/access', admins: [], maxPendingPerPerson: 10 });
    assert.deepEqual(config.state, { sqlite: './data/sesame.db' });
    assert.deepEqual(config.schedule, {
      expire: '*/15 * * * * *',
      remind: '0 * * * * *',
      rotate: '0 0 3 * * *',
      cleanup: '0 30 3 * * *',
      discover: '0 0 * * * *',
    });
    const local = config.integrations[0]!;
    assert.equal(local.type === 'postgresql' && local.port, 5432);
    assert.equal(local.authType, 'password');
    assert.equal(local.userAuth, 'password');
    assert.equal(local.audit, false);
    assert.deepEqual(local.owners, { integration: [], alsoApprovalChannel: false });
    assert.deepEqual(local.grantableRoles, []);
    assert.equal(local.sslMode, 'verify-full');
    assert.equal(effectiveSslMode(local), 'verify-full');
    assert.equal(effectiveSslMode({ ...local, sslMode: undefined } as unknown as typeof local), 'verify-full', 'a config made in code');
    const flow = config.accessFlows[0]!;
    assert.deepEqual(flow.approvers, ['owner']);
    assert.equal(flow.approvalMode, 'any');
    assert.equal(flow.allowSelfApproval, false);
    assert.equal(flow.requireJustification, true);
    assert.equal(flow.pendingTtl, 24 * 60);
    assert.equal(flow.defaultDuration, undefined);
    assert.equal(config.accessFlows[1]!.targets, undefined);
    assert.deepEqual(config.discovery[0]!.defaults, {
      database: 'postgres',
      sslMode: 'verify-full',
      userAuth: 'password',
      audit: false,
      owners: { integration: [], alsoApprovalChannel: false },
      grantableRoles: [],
    });
  });

  it('uses verify-full on RDS when no sslMode is given', () => {
    const config = parseConfigText(
      `integrations:
  - { name: prod, type: aws-rds-postgresql, region: us-east-1, clusterId: prod-aurora, database: app, username: c, authType: iam }
`,
      {},
    );
    assert.equal(effectiveSslMode(config.integrations[0]!), 'verify-full');
  });

  it('takes the config path from SESAME_CONFIG, else ./sesame.yml', () => {
    assert.equal(configPathFromEnv({ SESAME_CONFIG: '/etc/sesame/sesame.yml' }), '/etc/sesame/sesame.yml');
    assert.equal(configPathFromEnv({}), './sesame.yml');
  });
});

describe('config: slack.maxPendingPerPerson', () => {
  it('takes a positive whole number and refuses anything else at its path', () => {
    const withCap = (value: string) => minimal().replace('accessFlows:', `slack: { maxPendingPerPerson: ${value} }\naccessFlows:`);
    assert.equal(parseConfigText(withCap('3'), {}).slack.maxPendingPerPerson, 3);
    for (const bad of ['0', '-1', '2.5', '"ten"']) {
      assert.match(messageAt(issuesOf(withCap(bad)), 'slack.maxPendingPerPerson'), /number/, bad);
    }
  });
});

describe('config: durations', () => {
  const withMaxDuration = (value: string) => minimal().replace('maxDuration: 2h', `maxDuration: "${value}"`);

  for (const [text, minutes] of [
    ['15m', 15],
    ['2h', 120],
    ['1d', 1440],
    ['1h30m', 90],
  ] as const) {
    it(`reads ${text} as ${minutes} minutes`, () => {
      assert.equal(parseConfigText(withMaxDuration(text), {}).accessFlows[0]!.maxDuration, minutes);
    });
  }

  for (const text of ['0m', '-1h', 'abc', '']) {
    it(`rejects ${JSON.stringify(text)} and says how to write one`, () => {
      const message = messageAt(issuesOf(withMaxDuration(text)), 'accessFlows[0].maxDuration');
      assert.match(message, /longer than zero, written like 15m, 2h, 1d or 1h30m/);
    });
  }

  it('rejects a defaultDuration longer than maxDuration', () => {
    const issues = issuesOf(minimal('    defaultDuration: 3h\n'));
    assert.match(messageAt(issues, 'accessFlows[0].defaultDuration'), /longer than maxDuration/);
  });
});

describe('config: reason rules and quorum', () => {
  it('reads a justification rule and a quorum', () => {
    const config = parseConfigText(
      minimal('    justification: { pattern: "^[A-Z]+-[0-9]+", hint: "a ticket key like OPS-123" }\n    minApprovals: 2\n'),
      {},
    );
    const flow = config.accessFlows[0]!;
    assert.deepEqual(flow.justification, { pattern: '^[A-Z]+-[0-9]+', hint: 'a ticket key like OPS-123' });
    assert.equal(flow.minApprovals, 2);
    assert.equal(parseConfigText(minimal(), {}).accessFlows[0]!.minApprovals, 1, 'one approval by default');
  });

  it('reports a pattern that is not a regular expression, with its path, at start', () => {
    const message = messageAt(issuesOf(minimal('    justification: { pattern: "^([A-Z]+" }\n')), 'accessFlows[0].justification.pattern');
    assert.match(message, /is not a valid regular expression \(.*\); write it as JavaScript reads one/);
  });

  it('refuses a quorum below one, above ten or not whole, and unknown keys in the rule', () => {
    for (const n of ['0', '11', '1.5']) {
      assert.ok(
        issuesOf(minimal(`    minApprovals: ${n}\n`)).some((i) => i.path === 'accessFlows[0].minApprovals'),
        n,
      );
    }
    assert.ok(
      issuesOf(minimal('    justification: { pattern: "x", example: "y" }\n')).some((i) =>
        i.path.startsWith('accessFlows[0].justification'),
      ),
    );
  });
});

describe('config: bundles and break-glass flows', () => {
  const withBundles = (yaml: string) => `${minimal()}bundles:\n${yaml}`;

  it('reads bundles into targets and permissions, and break-glass off by default', () => {
    const config = parseConfigText(
      withBundles(
        '  - name: incident-debug\n    description: On call\n    parts:\n      - { target: local/appdb/public, permission: readonly }\n      - { target: local, permission: "role:reporting" }\n',
      ),
      {},
    );
    assert.deepEqual(config.bundles, [
      {
        name: 'incident-debug',
        description: 'On call',
        parts: [
          { target: { integration: 'local', database: 'appdb', schema: 'public' }, permission: 'readonly' },
          { target: { integration: 'local' }, permission: 'role:reporting' },
        ],
      },
    ]);
    assert.deepEqual(parseConfigText(minimal(), {}).bundles, []);
    assert.equal(parseConfigText(minimal(), {}).accessFlows[0]!.breakGlass, false);
    assert.equal(parseConfigText(minimal('    breakGlass: true\n'), {}).accessFlows[0]!.breakGlass, true);
  });

  it('reports each bad bundle at start with its path: unknown integration, bad target, name, permission, twice the same name', () => {
    const issues = issuesOf(
      withBundles(
        [
          '  - name: a',
          '    parts: [{ target: nowhere/appdb, permission: readonly }]',
          '  - name: a',
          '    parts: [{ target: "local//x", permission: readonly }]',
          '  - name: Bad Name',
          '    parts: [{ target: local, permission: superuser }]',
          '  - name: empty',
          '    parts: []',
          '',
        ].join('\n'),
      ),
    );
    assert.match(
      messageAt(issues, 'bundles[0].parts[0].target'),
      /names the integration "nowhere", which is not configured \(known: local\)/,
    );
    assert.match(messageAt(issues, 'bundles[1].name'), /already the name of bundles\[0\]/);
    assert.match(messageAt(issues, 'bundles[1].parts[0].target'), /is not a target: .*empty part/);
    assert.match(messageAt(issues, 'bundles[2].name'), /must start with a lowercase letter/);
    assert.match(messageAt(issues, 'bundles[2].parts[0].permission'), /must be readonly/);
    assert.match(messageAt(issues, 'bundles[3].parts'), /needs at least one target/);
  });
});

describe('config: customAccessDetails', () => {
  const withDetails = (length: number) =>
    minimal().replace('    password: pw-for-tests\n', `    password: pw-for-tests\n    customAccessDetails: "${'x'.repeat(length)}"\n`);

  it('accepts 400 characters', () => {
    assert.equal(parseConfigText(withDetails(400), {}).integrations[0]!.customAccessDetails?.length, 400);
  });

  it('rejects 401 characters, saying the limit', () => {
    const message = messageAt(issuesOf(withDetails(401)), 'integrations[0].customAccessDetails');
    assert.match(message, /at most 400 characters \(it has 401\)/);
  });
});

describe('config: every problem at once', () => {
  it('reports each problem with its path and what is allowed', () => {
    const issues = issuesOf(`
slack:
  approvalChannel: general
integrations:
  - name: local
    type: postgresql
    host: db.internal
    database: appdb
    username: sesame_connector
    password: pw-for-tests
  - name: Bad_Name
    type: postgresql
    host: db.internal
    port: 70000
    database: appdb
    username: sesame_connector
    sslMode: verify_everything
  - name: other
    type: mysql
accessFlows:
  - name: read
    requestors: []
    permissions: [readonly, superuser]
    maxDuration: 0m
    approvalMode: most
`);
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'accessFlows[0].approvalMode',
      'accessFlows[0].maxDuration',
      'accessFlows[0].permissions[1]',
      'accessFlows[0].requestors',
      'integrations[1].name',
      'integrations[1].password',
      'integrations[1].port',
      'integrations[1].sslMode',
      'integrations[2].type',
      'slack.approvalChannel',
    ]);
    assert.match(
      messageAt(issues, 'integrations[1].sslMode'),
      /^must be one of disable, allow, prefer, require, verify-ca, verify-full, not "verify_everything"/,
    );
    assert.match(messageAt(issues, 'integrations[2].type'), /must be one of postgresql, aws-rds-postgresql/);
    assert.match(messageAt(issues, 'integrations[1].port'), /1 to 65535/);
    assert.match(messageAt(issues, 'accessFlows[0].approvalMode'), /must be one of any, all/);
    assert.match(messageAt(issues, 'accessFlows[0].permissions[1]'), /readonly, readwrite, admin or role:<name>/);
    assert.match(messageAt(issues, 'slack.approvalChannel'), /Slack channel ID like C0123ABCD/);
    assert.match(messageAt(issues, 'integrations[1].password'), /is required with authType: password/);
  });

  it('puts every problem in the error message, in file order, with its line', () => {
    const text = minimal()
      .replace('host: db.internal', 'host: db.internal\n    sslMode: tls')
      .replace('maxDuration: 2h', 'maxDuration: forever');
    let message = '';
    try {
      parseConfigText(text, {});
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /^The config has 2 problems:\n/);
    const sslLine = message.indexOf('integrations[0].sslMode: must be one of');
    const durationLine = message.indexOf('accessFlows[0].maxDuration: must be a duration');
    assert.ok(sslLine > 0 && durationLine > sslLine, message);
    assert.match(message, /sslMode: .*\(line 6\)/);
  });

  it('names the wrong type and the right one', () => {
    const issues = issuesOf(
      minimal()
        .replace('host: db.internal', 'host: db.internal\n    port: "5432"\n    audit: "yes"')
        .replace('username: sesame_connector', 'username: 12345'),
    );
    assert.match(messageAt(issues, 'integrations[0].port'), /^must be a number, not text/);
    assert.match(messageAt(issues, 'integrations[0].audit'), /^must be true or false, not text/);
    assert.match(messageAt(issues, 'integrations[0].username'), /^must be text, not a number \(put it in quotes\)/);
  });

  it('says which required key is missing', () => {
    const issues = issuesOf(minimal().replace('    host: db.internal\n', ''));
    assert.match(messageAt(issues, 'integrations[0].host'), /^is required/);
  });

  it('reports YAML syntax errors with line and column', () => {
    const issues = issuesOf('slack:\n  command: /access\n    admins: [U0ADMIN1\n', {}, '/etc/sesame/sesame.yml');
    assert.ok(issues.length >= 1);
    assert.match(issues[0]!.path, /^\/etc\/sesame\/sesame\.yml:\d+:\d+$/);
    assert.match(issues[0]!.message, /is not valid YAML at line \d+, column \d+: /);
  });

  it('reports duplicate keys in the YAML', () => {
    const issues = issuesOf('slack:\n  command: /access\n  command: /other\n');
    assert.match(issues[0]!.message, /line 3, column 3: Map keys must be unique/);
  });

  it('says an empty file is empty', () => {
    assert.match(messageAt(issuesOf('# nothing yet\n'), ''), /empty.*sesame\.example\.yml/);
  });

  it('rejects a document that is not a mapping', () => {
    assert.match(messageAt(issuesOf('- one\n- two\n'), ''), /must be a mapping \(key: value\), not a list/);
  });
});

describe('config: unknown keys', () => {
  it('suggests the key that was probably meant', () => {
    const issues = issuesOf(minimal().replace('host: db.internal', 'host: db.internal\n    sslmode: require\n    usrename: x'));
    assert.match(messageAt(issues, 'integrations[0].sslmode'), /is not a known key; did you mean "sslMode"\?/);
    assert.match(messageAt(issues, 'integrations[0].usrename'), /did you mean "username"\?/);
  });

  it('suggests at the top level too', () => {
    const issues = issuesOf(`${minimal()}accessFlow: []\n`);
    assert.match(messageAt(issues, 'accessFlow'), /did you mean "accessFlows"\?/);
  });

  it('lists the known keys when nothing is close', () => {
    const message = messageAt(issuesOf(`${minimal()}slack:\n  colour: blue\n`), 'slack.colour');
    assert.match(message, /is not a known key here \(known keys: command, approvalChannel, admins, maxPendingPerPerson\)/);
  });

  it('names the line the unknown key is on, even when its value starts on the next line', () => {
    const text = [
      'slack:', // 1
      '  admins: [U0ADMIN1]', // 2
      'integration:', // 3: a list follows on the next line
      '  - name: x', // 4
      'integrations:', // 5
      '  - name: local', // 6
      '    type: postgresql', // 7
      '    host: db.internal', // 8
      '    database: appdb', // 9
      '    username: sesame_connector', // 10
      '    password: pw-for-tests', // 11
      '    owners:', // 12
      '      integration: [U0BOB]', // 13
      '      tagKey:', // 14: nested, in a list item, with a map below it
      '        a: 1', // 15
      'accessFlows:', // 16
      '  - name: read', // 17
      '    requestors: ["*"]', // 18
      '    permissions: [readonly]', // 19
      '    maxDuration: 2h', // 20
      '    targets:', // 21
      '      - integration: local', // 22
      '        schema: public', // 23: a key in an item of a nested list
      '    extra:', // 24: no value at all
      '',
    ].join('\n');
    const issues = issuesOf(text);
    assert.match(messageAt(issues, 'integration'), /\(line 3\)$/);
    assert.match(messageAt(issues, 'integrations[0].owners.tagKey'), /\(line 14\)$/);
    assert.match(messageAt(issues, 'accessFlows[0].targets[0].schema'), /\(line 23\)$/);
    assert.match(messageAt(issues, 'accessFlows[0].extra'), /\(line 24\)$/);
  });

  it('refuses keys of the other integration type', () => {
    const issues = issuesOf(minimal().replace('host: db.internal', 'host: db.internal\n    region: us-east-1'));
    assert.match(messageAt(issues, 'integrations[0].region'), /is not a known key/);
  });
});

describe('config: ${NAME} interpolation', () => {
  it('replaces variables anywhere in a string value', () => {
    const config = parseConfigText(
      minimal()
        .replace('host: db.internal', 'host: ${DB_HOST}.internal')
        .replace('password: pw-for-tests', 'password: "${PG_USER_PREFIX}-${PG_PASSWORD}"'),
      { DB_HOST: 'primary', PG_USER_PREFIX: 'a', PG_PASSWORD: 'b' },
    );
    const local = config.integrations[0]!;
    assert.equal(local.type === 'postgresql' && local.host, 'primary.internal');
    assert.equal(local.password, 'a-b');
  });

  it('interpolates inside lists and nested mappings', () => {
    const config = parseConfigText(`${minimal()}slack:\n  admins: ["\${ADMIN_EMAIL}"]\n`, { ADMIN_EMAIL: 'ops@example.com' });
    assert.deepEqual(config.slack.admins, ['ops@example.com']);
  });

  it('keeps $${NAME} as a literal ${NAME}', () => {
    const config = parseConfigText(
      minimal().replace('password: pw-for-tests', () => 'password: "pa$${NOT_A_VARIABLE}ss"'),
      {},
    );
    assert.equal(config.integrations[0]!.password, 'pa${NOT_A_VARIABLE}ss');
  });

  it('reports a missing variable at the path that uses it, with the others', () => {
    const issues = issuesOf(
      minimal()
        .replace('password: pw-for-tests', 'password: ${MISSING_PASSWORD}')
        .replace('host: db.internal', 'host: ${MISSING_HOST}\n    sslMode: nope'),
    );
    assert.deepEqual(issues.map((i) => i.path).sort(), ['integrations[0].host', 'integrations[0].password', 'integrations[0].sslMode']);
    assert.match(
      messageAt(issues, 'integrations[0].password'),
      /uses \$\{MISSING_PASSWORD\}, but the environment variable MISSING_PASSWORD is not set/,
    );
  });

  it('does not also complain about the form of a value whose variable is missing', () => {
    const issues = issuesOf(`${minimal()}slack:\n  approvalChannel: \${APPROVAL_CHANNEL}\n`);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['slack.approvalChannel'],
    );
    assert.match(issues[0]!.message, /APPROVAL_CHANNEL is not set/);
  });

  it('rejects references that never close or are not names', () => {
    const issues = issuesOf(
      minimal().replace('host: db.internal', 'host: "${DB_HOST"').replace('username: sesame_connector', 'username: "${not a name}"'),
      { DB_HOST: 'x' },
    );
    assert.match(messageAt(issues, 'integrations[0].host'), /without a closing "\}"/);
    assert.match(messageAt(issues, 'integrations[0].username'), /not a variable reference/);
  });
});

describe('config: secrets stay out of error messages', () => {
  const allText = (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    return [err.message, ...err.issues.flatMap((i) => [i.path, i.message])].join('\n');
  };

  it('never shows a password written in the file', () => {
    const secret = 'S3cr3t-literal-pw';
    const text = minimal()
      .replace('password: pw-for-tests', `password: ${secret}`)
      .replace('maxDuration: 2h', `maxDuration: "${secret}"`)
      .replace('host: db.internal', `host: db.internal\n    sslMode: "${secret}"`);
    assert.throws(
      () => parseConfigText(text, {}),
      (err) => {
        const shown = allText(err);
        assert.ok(!shown.includes(secret), shown);
        assert.match(shown, /sslMode: must be one of disable/);
        assert.match(shown, /\[REDACTED\]/);
        return true;
      },
    );
  });

  it('never shows the value of a secret-named variable, wherever it lands', () => {
    const token = 'tok-9f8e7d6c5b4a';
    const text = minimal().replace('host: db.internal', 'host: db.internal\n    sslMode: ${DB_TOKEN}\n    port: ${DB_TOKEN}');
    assert.throws(
      () => parseConfigText(text, { DB_TOKEN: token }),
      (err) => {
        const shown = allText(err);
        assert.ok(!shown.includes(token), shown);
        assert.match(shown, /integrations\[0\]\.sslMode/);
        return true;
      },
    );
  });

  it('never shows a password on a line with a YAML syntax error', () => {
    const secret = 'yaml-broken-pw-123';
    const text = `integrations:\n  - name: local\n    password: "${secret}\n    host: [x\n`;
    assert.throws(
      () => parseConfigText(text, {}),
      (err) => {
        assert.ok(!allText(err).includes(secret));
        return true;
      },
    );
  });

  it('registers secrets with the logger so later log lines redact them', () => {
    const secret = 'registered-pw-4711';
    const token = 'registered-token-0815';
    parseConfigText(minimal().replace('password: pw-for-tests', `password: ${secret}`), {});
    parseConfigText(`${minimal()}slack:\n  admins: ["\${ADMIN_TOKEN}@example.com"]\n`, { ADMIN_TOKEN: token });
    assert.equal(redact(`login failed for ${secret}`), 'login failed for [REDACTED]');
    assert.equal(redact(`bad ${token}`), 'bad [REDACTED]');
  });
});

describe('config: names and references', () => {
  it('rejects two integrations with the same name, naming the first', () => {
    const text = minimal().replace(
      'accessFlows:',
      `  - name: local
    type: postgresql
    host: other.internal
    database: appdb
    username: sesame_connector
    password: pw-for-tests
accessFlows:`,
    );
    assert.match(messageAt(issuesOf(text), 'integrations[1].name'), /"local" is already the name of integrations\[0\]/);
  });

  it('reports a duplicate name alongside problems elsewhere', () => {
    const text = minimal()
      .replace('accessFlows:', '  - { name: local, type: postgresql, host: h, database: d, username: u, password: p }\naccessFlows:')
      .replace('maxDuration: 2h', 'maxDuration: never');
    const paths = issuesOf(text)
      .map((i) => i.path)
      .sort();
    assert.deepEqual(paths, ['accessFlows[0].maxDuration', 'integrations[1].name']);
  });

  it('rejects two flows with the same name', () => {
    const text = `${minimal()}  - name: read\n    requestors: ["*"]\n    permissions: [readonly]\n    maxDuration: 1h\n`;
    assert.match(messageAt(issuesOf(text), 'accessFlows[1].name'), /already the name of another flow/);
  });

  it('rejects a flow naming an unknown integration, listing the known ones', () => {
    const text = minimal().replace('targets: [{ integration: local }]', 'targets: [{ integration: local }, { integration: loacl }]');
    assert.match(messageAt(issuesOf(text), 'accessFlows[0].targets[1].integration'), /no integration is named "loacl" \(known: local\)/);
  });

  it('allows a flow to name an integration that discovery will find', () => {
    const text = `${minimal().replace('targets: [{ integration: local }]', 'targets: [{ integration: prod-db-1 }]')}discovery:
  - type: aws-rds
    regions: [us-east-1]
    secretTagKey: sesame-secret
`;
    assert.deepEqual(parseConfigText(text, {}).accessFlows[0]!.targets, [{ integration: 'prod-db-1' }]);
  });

  it('rejects role:<name> unless an integration of the flow lists the role', () => {
    const text = minimal().replace('permissions: [readonly]', 'permissions: [readonly, "role:reporting"]');
    assert.match(messageAt(issuesOf(text), 'accessFlows[0].permissions[1]'), /lists "reporting" under grantableRoles/);
    const granted = text.replace('password: pw-for-tests', 'password: pw-for-tests\n    grantableRoles: [reporting]');
    assert.deepEqual(parseConfigText(granted, {}).accessFlows[0]!.permissions, ['readonly', 'role:reporting']);
  });

  it('rejects an RDS integration with both or neither of instanceId and clusterId', () => {
    const rds = (ids: string) =>
      `integrations:\n  - { name: prod, type: aws-rds-postgresql, region: us-east-1, database: app, username: c, authType: iam${ids} }\n`;
    assert.match(messageAt(issuesOf(rds('')), 'integrations[0].instanceId'), /exactly one of instanceId or clusterId/);
    assert.match(
      messageAt(issuesOf(rds(', instanceId: a, clusterId: b')), 'integrations[0].instanceId'),
      /exactly one of instanceId or clusterId/,
    );
  });

  it('rejects IAM sign-in for a plain PostgreSQL integration', () => {
    const text = minimal().replace('password: pw-for-tests', 'authType: iam\n    userAuth: iam');
    const issues = issuesOf(text);
    assert.match(messageAt(issues, 'integrations[0].authType'), /iam needs type: aws-rds-postgresql/);
    assert.match(messageAt(issues, 'integrations[0].userAuth'), /iam needs type: aws-rds-postgresql/);
  });

  it('rejects both password and secretArn', () => {
    const text = minimal().replace(
      'password: pw-for-tests',
      'password: pw-for-tests\n    secretArn: arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
    );
    assert.match(messageAt(issuesOf(text), 'integrations[0].secretArn'), /password or secretArn, not both/);
  });
});

describe('config: schedule', () => {
  it('accepts five fields, and six with seconds first', () => {
    const config = parseConfigText(`${minimal()}schedule:\n  expire: "*/30 * * * * *"\n  rotate: "0 4 * * *"\n`, {});
    assert.equal(config.schedule.expire, '*/30 * * * * *');
    assert.equal(config.schedule.rotate, '0 4 * * *');
    assert.equal(config.schedule.remind, '0 * * * * *');
  });

  for (const bad of ['every minute', '61 * * * *', '* * * * * * *']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      const issues = issuesOf(`${minimal()}schedule:\n  cleanup: "${bad}"\n`);
      assert.match(messageAt(issues, 'schedule.cleanup'), /must be a cron expression: five fields, or six with seconds first/);
    });
  }
});

describe('config: the file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves relative paths against the config file directory', () => {
    mkdirSync(join(dir, 'etc'));
    const file = join(dir, 'etc', 'sesame.yml');
    writeFileSync(
      file,
      minimal()
        .replace('password: pw-for-tests', 'password: pw-for-tests\n    sslMode: verify-ca\n    sslRootCert: ../certs/ca.pem')
        .concat('state:\n  sqlite: state/sesame.db\n'),
    );
    const config = loadConfig(file, {});
    assert.equal(config.state.sqlite, join(dir, 'etc', 'state', 'sesame.db'));
    assert.equal(config.integrations[0]!.sslRootCert, join(dir, 'certs', 'ca.pem'));
  });

  it('keeps absolute paths and resolves the default state file next to the config', () => {
    const file = join(dir, 'absolute.yml');
    writeFileSync(
      file,
      minimal().replace('password: pw-for-tests', 'password: pw-for-tests\n    sslMode: verify-full\n    sslRootCert: /etc/ssl/ca.pem'),
    );
    const config: Config = loadConfig(file, {});
    assert.equal(config.integrations[0]!.sslRootCert, '/etc/ssl/ca.pem');
    assert.equal(config.state.sqlite, join(dir, 'data', 'sesame.db'));
  });

  it('says where it looked for a missing file and how to point elsewhere', () => {
    const missing = join(dir, 'nowhere', 'sesame.yml');
    assert.throws(
      () => loadConfig(missing, {}),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, new RegExp(`no config file at ${missing.replaceAll('.', '\\.')}`));
        assert.match(err.message, /SESAME_CONFIG/);
        return true;
      },
    );
  });

  it('reads a relative path against the working directory', () => {
    assert.throws(
      () => loadConfig('no-such-dir/sesame.yml', {}),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.message.includes(resolve('no-such-dir/sesame.yml')));
        return true;
      },
    );
  });
});

describe('config: paths in messages', () => {
  it('writes paths the way a person reads them', () => {
    assert.equal(formatConfigPath(['integrations', 1, 'sslMode']), 'integrations[1].sslMode');
    assert.equal(formatConfigPath(['discovery', 0, 'tagFilter', 'cost center']), 'discovery[0].tagFilter["cost center"]');
    assert.equal(formatConfigPath([]), '');
  });
});

describe('IAM sign-in only to a verified server', { timeout: 10_000 }, () => {
  it('refuses authType: iam with an sslMode that does not verify the server, saying where and why', () => {
    const text = (sslMode: string) => `integrations:
  - { name: prod, type: aws-rds-postgresql, region: us-east-1, instanceId: prod-db, database: app, username: sesame_connector, authType: iam, sslMode: ${sslMode} }
`;
    for (const sslMode of ['disable', 'allow', 'prefer', 'require']) {
      assert.throws(
        () => parseConfigText(text(sslMode), {}),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.message.includes(`integrations[0].sslMode: must be verify-full or verify-ca with authType: iam, not ${sslMode}`) &&
          /the IAM token is sent as a clear-text password/.test(e.message),
      );
    }
    for (const sslMode of ['verify-ca', 'verify-full']) assert.doesNotThrow(() => parseConfigText(text(sslMode), {}));
    assert.doesNotThrow(() => parseConfigText(text('verify-full').replace(', sslMode: verify-full', ''), {}), 'the default verifies');
  });
});

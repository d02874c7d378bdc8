import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Check } from '../../../src/doctor/check.ts';
import { CHECKS } from '../../../src/doctor/checks/index.ts';
import { controlEndpoint } from '../../../src/doctor/checks/control-endpoint.ts';
import { proxyFor, proxySettings } from '../../../src/doctor/proxy.ts';
import { counts, renderReports, runChecks } from '../../../src/doctor/run.ts';
import { scriptedEcs } from '../ecs-agent/scripted-ecs.ts';
import { doctorContext, healthyHost, runCheck } from './fake-doctor.ts';

test(
  'control-endpoint: ok when not configured or the probe succeeds; fail when it does not; warn ' + 'without a probe',
  async () => {
    const { host } = healthyHost();
    assert.equal((await runCheck(controlEndpoint, host)).evidence, 'CONTROL_URL is not set: nothing is reported');
    const agentEnv = 'CONTROL_URL=https://control.example\n';
    assert.equal((await runCheck(controlEndpoint, host, { agentEnv })).verdict, 'warn');
    const reachable = await runCheck(controlEndpoint, host, {
      agentEnv,
      controlProbe: async () => ({ reachable: true, evidence: 'HTTP 200 with the token' }),
    });
    assert.deepEqual(reachable, { verdict: 'ok', evidence: 'HTTP 200 with the token' });
    const refused = await runCheck(controlEndpoint, host, {
      agentEnv,
      controlProbe: async () => ({ reachable: false, evidence: 'HTTP 401: token refused' }),
    });
    assert.equal(refused.verdict, 'fail');
    const broken = await runCheck(controlEndpoint, host, {
      agentEnv,
      controlProbe: () => Promise.reject(new Error('connect ETIMEDOUT')),
    });
    assert.match(broken.evidence, /https:\/\/control\.example: connect ETIMEDOUT/);
  },
);

test('every check has a unique id and a title', () => {
  const ids = CHECKS.map((check) => check.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(CHECKS.every((check) => check.title.length > 0));
  assert.equal(CHECKS.length, 20);
});

test(
  'the runner keeps the order, turns a throwing check into its own failure, and renders fixes ' + 'under failures',
  async () => {
    const checks: Check[] = [
      { id: 'fine', title: 'fine', run: async () => ({ verdict: 'ok', evidence: 'all good' }) },
      { id: 'broken', title: 'broken', run: () => Promise.reject(new Error('boom')) },
      { id: 'iffy', title: 'iffy', run: async () => ({ verdict: 'warn', evidence: 'hmm', fix: 'look' }) },
    ];
    const reports = await runChecks(checks, doctorContext(healthyHost().host));
    assert.deepEqual(
      reports.map((report) => [report.id, report.verdict]),
      [
        ['fine', 'ok'],
        ['broken', 'fail'],
        ['iffy', 'warn'],
      ],
    );
    assert.match(reports[1]?.evidence ?? '', /the check itself failed: boom/);
    assert.deepEqual(counts(reports), { ok: 1, warn: 1, fail: 1 });
    assert.equal(
      renderReports(reports),
      [
        'OK    fine    all good',
        'FAIL  broken  the check itself failed: boom',
        '              fix: report this as a bug of ecs-host-agent, with the evidence',
        'WARN  iffy    hmm',
        '              fix: look',
        '',
        '1 ok, 1 warnings, 1 failed',
      ].join('\n'),
    );
  },
);

test('a healthy host passes every check but the network ones this fake does not answer', async () => {
  const machine = healthyHost();
  machine.host.onTls(() => ({ protocol: 'TLSv1.3', certificateError: null }));
  const ecsClient = scriptedEcs(() => ({
    status: 200,
    body: { clusters: [{ clusterName: 'prod', status: 'ACTIVE' }], failures: [] },
  }));
  const reports = await runChecks(CHECKS, doctorContext(machine.host, { ecsClient }));
  const failing = reports.filter((report) => report.verdict !== 'ok').map((report) => report.id);
  assert.deepEqual(failing, ['clock-skew', 'introspection']);
});

test('proxy settings: ecs.config first, then the environment; NO_PROXY by name and domain', () => {
  const settings = proxySettings('HTTPS_PROXY=http://p:3128\nNO_PROXY=127.0.0.1, .internal,*.example.com:443\n', {
    HTTPS_PROXY: 'http://env:1',
  });
  assert.deepEqual(settings, {
    url: 'http://p:3128',
    noProxy: ['127.0.0.1', 'internal', 'example.com'],
    source: '/etc/ecs/ecs.config',
  });
  assert.equal(proxyFor(settings, 'ecs.eu-west-1.amazonaws.com'), 'http://p:3128');
  assert.equal(proxyFor(settings, 'api.internal'), null);
  assert.equal(proxyFor(settings, 'example.com'), null);
  assert.equal(proxyFor(settings, 'notexample.com'), 'http://p:3128');
  assert.equal(proxyFor(proxySettings(null, { NO_PROXY: '*', HTTP_PROXY: 'h:1' }), 'anything'), null);
  assert.deepEqual(proxySettings(null, {}), { url: null, noProxy: [], source: 'none' });
});

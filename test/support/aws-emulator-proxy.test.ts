import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classify,
  isWrite,
  startRecordingProxy,
  writes,
  type RecordingProxy,
} from './aws-emulator.js';

// The emulator suite's write counts are only as good as this proxy's bookkeeping.
const AUTH = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;

let upstream: http.Server | undefined;
let proxy: RecordingProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
});

describe('the emulator suite’s recording proxy', () => {
  it('names JSON-protocol calls by X-Amz-Target and query-protocol calls by Action', () => {
    expect(
      classify(
        'POST',
        {
          authorization: AUTH('ecs'),
          'x-amz-target': 'AmazonEC2ContainerServiceV20141113.RunTask',
        },
        '{}',
        '/',
      ),
    ).toEqual({ service: 'ecs', action: 'RunTask' });
    expect(
      classify(
        'POST',
        { authorization: AUTH('ec2') },
        'Action=DescribeSubnets&Version=2016-11-15',
        '/',
      ),
    ).toEqual({ service: 'ec2', action: 'DescribeSubnets' });
    expect(isWrite({ service: 'iam', action: 'GetRole' })).toBe(false);
    expect(isWrite({ service: 'logs', action: 'FilterLogEvents' })).toBe(false);
    expect(isWrite({ service: 'iam', action: 'PutRolePolicy' })).toBe(true);
    expect(isWrite({ service: 'ecs', action: 'TagResource' })).toBe(true);
  });

  it('forwards each request and its answer unchanged, and records it', async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: body, target: req.headers['x-amz-target'] ?? null }));
      });
    });
    await new Promise<void>((resolve) => upstream?.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    proxy = await startRecordingProxy(`http://127.0.0.1:${port}`);
    const send = (headers: Record<string, string>, body: string) =>
      fetch(proxy?.url ?? '', { method: 'POST', headers, body }).then((r) => r.json());

    expect(
      await send(
        { authorization: AUTH('logs'), 'x-amz-target': 'Logs_20140328.PutRetentionPolicy' },
        '{"retentionInDays":7}',
      ),
    ).toEqual({ echoed: '{"retentionInDays":7}', target: 'Logs_20140328.PutRetentionPolicy' });
    await send({ authorization: AUTH('iam') }, 'Action=ListRoles&Version=2010-05-08');
    expect(proxy.calls).toEqual([
      { service: 'logs', action: 'PutRetentionPolicy' },
      { service: 'iam', action: 'ListRoles' },
    ]);
    expect(writes(proxy.since(1))).toEqual([]);
    expect(writes(proxy.calls)).toEqual(['logs:PutRetentionPolicy']);
  });
});

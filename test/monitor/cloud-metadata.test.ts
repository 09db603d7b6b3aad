import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import {
  HostIdentityResolver,
  parseHostIdentitySpec,
  resolveCloudIdentity,
  type CloudProvider,
} from '../../src/monitor/cloud-metadata.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A metadata service on 127.0.0.1 (random port); `requests` logs "METHOD path" of every request. */
async function fakeMetadata(
  handler: Handler,
): Promise<{ base: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
}

const AWS_TOKEN = 'AQAEAtoken==';

const aws: Handler = (request, response) => {
  if (request.method === 'PUT' && request.url === '/latest/api/token') {
    if (request.headers['x-aws-ec2-metadata-token-ttl-seconds'] === undefined)
      return answer(response, 400, '');
    return answer(response, 200, AWS_TOKEN);
  }
  if (request.headers['x-aws-ec2-metadata-token'] !== AWS_TOKEN) return answer(response, 401, ''); // IMDSv2 only
  const values: Record<string, string> = {
    '/latest/meta-data/instance-id': 'i-0123456789abcdef0',
    '/latest/meta-data/placement/region': 'eu-west-1',
    '/latest/meta-data/placement/availability-zone': 'eu-west-1b',
  };
  const value = values[request.url ?? ''];
  return value === undefined ? answer(response, 404, '') : answer(response, 200, value);
};

async function identityFrom(provider: CloudProvider, handler: Handler): Promise<unknown> {
  const server = await fakeMetadata(handler);
  try {
    return await resolveCloudIdentity({ providers: [provider], endpoints: { [provider]: server.base } });
  } finally {
    await server.close();
  }
}

test('aws: IMDSv2 token first, then instance id, region and zone with the token', async () => {
  const server = await fakeMetadata(aws);
  try {
    const identity = await resolveCloudIdentity({ providers: ['aws'], endpoints: { aws: server.base } });
    assert.deepEqual(identity, {
      provider: 'aws',
      instanceId: 'i-0123456789abcdef0',
      region: 'eu-west-1',
      zone: 'eu-west-1b',
    });
    assert.equal(server.requests[0], 'PUT /latest/api/token');
  } finally {
    await server.close();
  }
});

test('aws: a service that refuses the token (IMDSv1-only fake) is not used', async () => {
  const identity = await identityFrom('aws', (request, response) =>
    request.method === 'PUT' ? answer(response, 403, '') : aws(request, response),
  );
  assert.deepEqual(identity, { provider: 'none', instanceId: hostname(), region: '', zone: '' });
});

test('gcp: id and zone with Metadata-Flavor; the region is derived from the zone', async () => {
  const identity = await identityFrom('gcp', (request, response) => {
    if (request.headers['metadata-flavor'] !== 'Google') return answer(response, 403, '');
    const flavor = { 'Metadata-Flavor': 'Google' };
    if (request.url === '/computeMetadata/v1/instance/id')
      return answer(response, 200, '4520031799277581759', flavor);
    if (request.url === '/computeMetadata/v1/instance/zone') {
      return answer(response, 200, 'projects/123456789/zones/europe-west1-b', flavor);
    }
    return answer(response, 404, '');
  });
  assert.deepEqual(identity, {
    provider: 'gcp',
    instanceId: '4520031799277581759',
    region: 'europe-west1',
    zone: 'europe-west1-b',
  });
});

test('azure: compute.vmId, location and zone from the instance document', async () => {
  const identity = await identityFrom('azure', (request, response) => {
    if (request.headers.metadata !== 'true' || request.url !== '/metadata/instance?api-version=2021-02-01') {
      return answer(response, 400, '');
    }
    const document = {
      compute: { vmId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6', location: 'westeurope', zone: '2' },
    };
    return answer(response, 200, JSON.stringify(document), { 'content-type': 'application/json' });
  });
  assert.deepEqual(identity, {
    provider: 'azure',
    instanceId: '02aab8a4-74ef-476e-8182-f6d2ba4166a6',
    region: 'westeurope',
    zone: '2',
  });
});

test('azure: bad JSON is no identity (falls back to the host name)', async () => {
  const identity = await identityFrom('azure', (_request, response) =>
    answer(response, 200, '{"compute": {vmId'),
  );
  assert.deepEqual(identity, { provider: 'none', instanceId: hostname(), region: '', zone: '' });
});

const alibabaValues: Record<string, string> = {
  '/latest/meta-data/instance-id': 'i-bp67acfmxazb4p****'.replace(/\*/g, 'x'),
  '/latest/meta-data/region-id': 'cn-hangzhou',
  '/latest/meta-data/zone-id': 'cn-hangzhou-i',
};

test('alibaba: the token flow (hardened mode refuses GETs without the token)', async () => {
  const identity = await identityFrom('alibaba', (request, response) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token') {
      return request.headers['x-aliyun-ecs-metadata-token-ttl-seconds'] === undefined
        ? answer(response, 400, '')
        : answer(response, 200, 'ali-token');
    }
    if (request.headers['x-aliyun-ecs-metadata-token'] !== 'ali-token') return answer(response, 403, '');
    const value = alibabaValues[request.url ?? ''];
    return value === undefined ? answer(response, 404, '') : answer(response, 200, value);
  });
  assert.deepEqual(identity, {
    provider: 'alibaba',
    instanceId: 'i-bp67acfmxazb4pxxxx',
    region: 'cn-hangzhou',
    zone: 'cn-hangzhou-i',
  });
});

test('alibaba: without the token flow, plain GETs are used', async () => {
  const identity = await identityFrom('alibaba', (request, response) => {
    const value = request.method === 'GET' ? alibabaValues[request.url ?? ''] : undefined;
    return value === undefined ? answer(response, 404, '') : answer(response, 200, value);
  });
  assert.equal((identity as { provider: string }).provider, 'alibaba');
});

test('a service that never answers: falls back within the timeout', async () => {
  const server = await fakeMetadata(() => undefined); // accepts, never responds
  try {
    const started = Date.now();
    const identity = await resolveCloudIdentity({
      timeoutMs: 200,
      endpoints: { aws: server.base, gcp: server.base, azure: server.base, alibaba: server.base },
    });
    const elapsed = Date.now() - started;
    assert.equal(identity.provider, 'none');
    assert.ok(elapsed < 800, `took ${elapsed} ms`); // aws/alibaba: token then GETs, 2 timeouts at most
  } finally {
    await server.close();
  }
});

test('an injected value (control characters, spaces) is refused, not copied into alerts', async () => {
  const identity = await identityFrom('aws', (request, response) =>
    request.url === '/latest/meta-data/instance-id'
      ? answer(response, 200, 'i-1 "\nforged')
      : aws(request, response),
  );
  assert.equal((identity as { provider: string }).provider, 'none');
});

test('auto-detection: the first provider in order that answers wins', async () => {
  const server = await fakeMetadata(aws); // answers like AWS; the gcp/azure probes get 401s
  try {
    const identity = await resolveCloudIdentity({
      providers: ['gcp', 'azure', 'aws'],
      endpoints: { aws: server.base, gcp: server.base, azure: server.base },
    });
    assert.equal(identity.provider, 'aws');
  } finally {
    await server.close();
  }
});

test('the resolver asks once, shares the answer, and refreshes after the interval', async () => {
  const server = await fakeMetadata(aws);
  try {
    let clock = 0;
    const resolver = new HostIdentityResolver({
      spec: 'aws',
      endpoints: { aws: server.base },
      refreshMs: 1000,
      now: () => clock,
    });
    const [a, b] = await Promise.all([resolver.get(), resolver.get()]);
    assert.deepEqual(a, b);
    assert.equal(server.requests.filter((r) => r.startsWith('PUT')).length, 1);
    clock = 1500;
    await resolver.get();
    assert.equal(server.requests.filter((r) => r.startsWith('PUT')).length, 2);
  } finally {
    await server.close();
  }
});

test('static and none specs; a bad spec names the problem', async () => {
  const resolver = new HostIdentityResolver({ spec: 'static:web-1,eu-west-1,eu-west-1a' });
  assert.deepEqual(await resolver.get(), {
    provider: 'static',
    instanceId: 'web-1',
    region: 'eu-west-1',
    zone: 'eu-west-1a',
  });
  assert.equal((await new HostIdentityResolver({ spec: 'none' }).get()).instanceId, hostname());
  assert.deepEqual(parseHostIdentitySpec('aws,gcp'), { kind: 'cloud', providers: ['aws', 'gcp'] });
  assert.throws(() => parseHostIdentitySpec('static:'), /static:HOST,REGION,ZONE/);
  assert.throws(() => parseHostIdentitySpec('static:a b,r,z'), /static:HOST/);
  assert.throws(() => parseHostIdentitySpec('openstack'), /unknown provider openstack/);
});

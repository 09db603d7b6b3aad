/**
 * Host identity for events and alerts: the cloud instance id, region and zone from the provider's
 * metadata service, or a static value, or the host name.
 *
 *   const identity = new HostIdentityResolver({ spec: 'auto' });   // or 'aws', 'static:web-1,eu-west-1,eu-west-1a', 'none'
 *   const { instanceId, region, zone, provider } = await identity.get();   // resolved once, refreshed hourly
 *
 * Providers (tried in parallel, the first of `providers` order that answers wins; each request has a
 * short timeout, default 300 ms, so a host outside any cloud resolves in about that time):
 *  - aws: IMDSv2 only (PUT /latest/api/token, then GETs with the token); IMDSv1 is not used.
 *  - gcp: /computeMetadata/v1/instance/{id,zone} with `Metadata-Flavor: Google` (checked in the answer).
 *  - azure: /metadata/instance?api-version=2021-02-01 with `Metadata: true` (compute.vmId/location/zone).
 *  - alibaba: 100.100.100.200, token flow first (X-aliyun-ecs-metadata-token), plain GETs if refused.
 * `endpoints` overrides the base URL per provider (tests use a loopback server). Values read from a
 * metadata service are checked against a conservative character set: whoever can answer on the link-local
 * address must not be able to inject text into alerts.
 */
import { hostname } from 'node:os';

export type CloudProvider = 'aws' | 'gcp' | 'azure' | 'alibaba';

export const CLOUD_PROVIDERS: readonly CloudProvider[] = ['aws', 'gcp', 'azure', 'alibaba'];

export interface HostIdentity {
  /** Where the identity came from. */
  readonly provider: CloudProvider | 'static' | 'none';
  /** Cloud instance id, the static host, or the host name. */
  readonly instanceId: string;
  readonly region: string;
  readonly zone: string;
}

export interface MetadataOptions {
  /** Providers to try, in order of preference (default all, aws first). */
  readonly providers?: readonly CloudProvider[];
  /** Base URL per provider, e.g. http://127.0.0.1:PORT (tests). */
  readonly endpoints?: Partial<Record<CloudProvider, string>>;
  /** Per-request timeout (default 300 ms). */
  readonly timeoutMs?: number;
}

const DEFAULT_ENDPOINTS: Readonly<Record<CloudProvider, string>> = {
  aws: 'http://169.254.169.254',
  gcp: 'http://169.254.169.254', // metadata.google.internal, without a DNS lookup
  azure: 'http://169.254.169.254',
  alibaba: 'http://100.100.100.200',
};

const TOKEN_TTL_SECONDS = '21600';
/** Metadata answers are a few bytes; anything much larger is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const PLACE = /^[A-Za-z0-9_-]{0,64}$/;

/** Raised when a provider answered but not as that provider does. */
class MetadataError extends Error {}

interface Request {
  readonly base: string;
  readonly timeoutMs: number;
}

/** One metadata request; resolves to the body of a 2xx answer, throws otherwise. */
async function fetchText(
  request: Request,
  path: string,
  init: { method?: string; headers: Record<string, string>; expectHeader?: [string, string] },
): Promise<string> {
  const response = await fetch(`${request.base}${path}`, {
    method: init.method ?? 'GET',
    headers: init.headers,
    redirect: 'error',
    signal: AbortSignal.timeout(request.timeoutMs),
  });
  const body = await response.text();
  if (!response.ok) throw new MetadataError(`${path}: HTTP ${response.status}`);
  if (
    init.expectHeader !== undefined &&
    response.headers.get(init.expectHeader[0]) !== init.expectHeader[1]
  ) {
    throw new MetadataError(`${path}: missing ${init.expectHeader[0]} header`);
  }
  if (body.length > MAX_ANSWER_BYTES) throw new MetadataError(`${path}: answer too large`);
  return body.trim();
}

/** Checks what a metadata service said before it goes into events and alerts. */
function checkedIdentity(
  provider: CloudProvider,
  instanceId: string,
  region: string,
  zone: string,
): HostIdentity {
  if (!INSTANCE_ID.test(instanceId)) throw new MetadataError(`${provider}: implausible instance id`);
  if (!PLACE.test(region) || !PLACE.test(zone))
    throw new MetadataError(`${provider}: implausible region/zone`);
  return { provider, instanceId, region, zone };
}

async function awsIdentity(request: Request): Promise<HostIdentity> {
  const token = await fetchText(request, '/latest/api/token', {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
  });
  const headers = { 'X-aws-ec2-metadata-token': token };
  const [instanceId, region, zone] = await Promise.all(
    ['instance-id', 'placement/region', 'placement/availability-zone'].map((item) =>
      fetchText(request, `/latest/meta-data/${item}`, { headers }),
    ),
  );
  return checkedIdentity('aws', instanceId!, region!, zone!);
}

async function gcpIdentity(request: Request): Promise<HostIdentity> {
  const init = {
    headers: { 'Metadata-Flavor': 'Google' },
    expectHeader: ['metadata-flavor', 'Google'] as [string, string],
  };
  const [instanceId, zonePath] = await Promise.all([
    fetchText(request, '/computeMetadata/v1/instance/id', init),
    fetchText(request, '/computeMetadata/v1/instance/zone', init),
  ]);
  // projects/123456/zones/europe-west1-b: the region is the zone without its last "-x".
  const zone = zonePath!.slice(zonePath!.lastIndexOf('/') + 1);
  const region = zone.includes('-') ? zone.slice(0, zone.lastIndexOf('-')) : '';
  return checkedIdentity('gcp', instanceId!, region, zone);
}

async function azureIdentity(request: Request): Promise<HostIdentity> {
  const body = await fetchText(request, '/metadata/instance?api-version=2021-02-01', {
    headers: { Metadata: 'true' },
  });
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw new MetadataError('azure: the instance document is not JSON');
  }
  const compute = (document as { compute?: Record<string, unknown> } | null)?.compute;
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  if (compute === undefined || typeof compute !== 'object')
    throw new MetadataError('azure: no "compute" object');
  return checkedIdentity('azure', text(compute.vmId), text(compute.location), text(compute.zone));
}

async function alibabaIdentity(request: Request): Promise<HostIdentity> {
  let headers: Record<string, string> = {};
  try {
    const token = await fetchText(request, '/latest/api/token', {
      method: 'PUT',
      headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
    });
    headers = { 'X-aliyun-ecs-metadata-token': token };
  } catch (error) {
    if (!(error instanceof MetadataError)) throw error; // no answer at all: not Alibaba Cloud
    // an HTTP refusal: an older instance without the token flow; plain GETs still work there
  }
  const [instanceId, region, zone] = await Promise.all(
    ['instance-id', 'region-id', 'zone-id'].map((item) =>
      fetchText(request, `/latest/meta-data/${item}`, { headers }),
    ),
  );
  return checkedIdentity('alibaba', instanceId!, region!, zone!);
}

const PROBES: Readonly<Record<CloudProvider, (request: Request) => Promise<HostIdentity>>> = {
  aws: awsIdentity,
  gcp: gcpIdentity,
  azure: azureIdentity,
  alibaba: alibabaIdentity,
};

/** The identity when no provider answers: this machine's host name. */
export function hostNameIdentity(): HostIdentity {
  return { provider: 'none', instanceId: hostname(), region: '', zone: '' };
}

/** Asks the providers (in parallel) and returns the first, in preference order, that answered. */
export async function resolveCloudIdentity(options: MetadataOptions = {}): Promise<HostIdentity> {
  const providers = options.providers ?? CLOUD_PROVIDERS;
  const timeoutMs = options.timeoutMs ?? 300;
  const answers = await Promise.allSettled(
    providers.map((provider) =>
      PROBES[provider]({ base: options.endpoints?.[provider] ?? DEFAULT_ENDPOINTS[provider], timeoutMs }),
    ),
  );
  for (const answer of answers) if (answer.status === 'fulfilled') return answer.value;
  return hostNameIdentity();
}

/** How the operator said to find the identity. */
export type HostIdentitySpec =
  | { readonly kind: 'static'; readonly identity: HostIdentity }
  | { readonly kind: 'cloud'; readonly providers: readonly CloudProvider[] }
  | { readonly kind: 'none' };

/**
 * Parses `auto`, `none`, a provider name (`aws`, `gcp`, `azure`, `alibaba`, or several joined by ',')
 * or `static:HOST,REGION,ZONE` (region and zone may be empty). Throws naming what is wrong.
 */
export function parseHostIdentitySpec(spec: string): HostIdentitySpec {
  if (spec === 'auto') return { kind: 'cloud', providers: CLOUD_PROVIDERS };
  if (spec === 'none') return { kind: 'none' };
  if (spec.startsWith('static:')) {
    const parts = spec.slice('static:'.length).split(',');
    const [instanceId = '', region = '', zone = ''] = parts;
    if (parts.length > 3 || !INSTANCE_ID.test(instanceId) || !PLACE.test(region) || !PLACE.test(zone)) {
      throw new Error(`host identity "${spec}": expected static:HOST,REGION,ZONE (letters, digits, . _ : -)`);
    }
    return { kind: 'static', identity: { provider: 'static', instanceId, region, zone } };
  }
  const providers = spec.split(',');
  const unknown = providers.filter((name) => !CLOUD_PROVIDERS.includes(name as CloudProvider));
  if (unknown.length > 0 || providers.length === 0) {
    throw new Error(
      `host identity "${spec}": unknown provider ${unknown.join(', ')}; use auto, none, ` +
        `${CLOUD_PROVIDERS.join(', ')} or static:HOST,REGION,ZONE`,
    );
  }
  return { kind: 'cloud', providers: providers as CloudProvider[] };
}

export interface ResolverOptions extends Omit<MetadataOptions, 'providers'> {
  /** See parseHostIdentitySpec (default 'auto'). */
  readonly spec?: string;
  /** How long a resolved identity is kept before asking again (default one hour). */
  readonly refreshMs?: number;
  readonly now?: () => number;
}

/** Resolves the identity once per process (concurrent callers share the request) and refreshes it. */
export class HostIdentityResolver {
  private readonly spec: HostIdentitySpec;
  private current: { identity: Promise<HostIdentity>; at: number } | undefined;

  constructor(private readonly options: ResolverOptions = {}) {
    this.spec = parseHostIdentitySpec(options.spec ?? 'auto');
  }

  /** The identity, from the cache while it is fresh. */
  get(): Promise<HostIdentity> {
    const now = (this.options.now ?? Date.now)();
    if (this.current === undefined || now - this.current.at >= (this.options.refreshMs ?? 3_600_000)) {
      const previous = this.current?.identity;
      this.current = { identity: this.refreshed(previous), at: now };
    }
    return this.current.identity;
  }

  /** A new resolution; a cloud identity is kept when a refresh finds no service (a blip, not a move). */
  private async refreshed(previous: Promise<HostIdentity> | undefined): Promise<HostIdentity> {
    const fresh = await this.resolve();
    const before = previous === undefined ? undefined : await previous;
    return fresh.provider === 'none' && before !== undefined ? before : fresh;
  }

  private resolve(): Promise<HostIdentity> {
    switch (this.spec.kind) {
      case 'static':
        return Promise.resolve(this.spec.identity);
      case 'none':
        return Promise.resolve(hostNameIdentity());
      case 'cloud':
        return resolveCloudIdentity({ ...this.options, providers: this.spec.providers });
    }
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupPathOfContainer, containerIdFromCgroup, containerIdOfPid } from '../../src/sources/cgroup.js';

const ID = '3f1a9c0e5b7d2a4c6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809';
const POD = 'pod8c3d2e1f-0a1b-4c5d-9e8f-7a6b5c4d3e2f';
const POD_SLICE = 'pod8c3d2e1f_0a1b_4c5d_9e8f_7a6b5c4d3e2f';

const SAMPLES: Readonly<Record<string, string>> = {
  'docker, cgroup v1, cgroupfs driver': [
    `12:pids:/docker/${ID}`,
    `11:memory:/docker/${ID}`,
    `4:cpu,cpuacct:/docker/${ID}`,
    `1:name=systemd:/docker/${ID}`,
    `0::/system.slice/containerd.service`,
  ].join('\n'),
  'docker, cgroup v1, systemd driver': [
    `10:memory:/system.slice/docker-${ID}.scope`,
    `1:name=systemd:/system.slice/docker-${ID}.scope`,
  ].join('\n'),
  'docker, cgroup v2, systemd driver': `0::/system.slice/docker-${ID}.scope\n`,
  'docker, cgroup v2, cgroupfs driver': `0::/docker/${ID}\n`,
  'docker, systemd inside the container (nested init.scope)': `0::/system.slice/docker-${ID}.scope/init.scope\n`,
  'containerd, kubernetes, cgroup v2, systemd driver, burstable QoS': `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-${POD_SLICE}.slice/cri-containerd-${ID}.scope\n`,
  'containerd, kubernetes, cgroup v1, cgroupfs driver, besteffort QoS': [
    `11:memory:/kubepods/besteffort/${POD}/${ID}`,
    `1:name=systemd:/kubepods/besteffort/${POD}/${ID}`,
  ].join('\n'),
  'containerd, kubernetes, guaranteed QoS (no QoS slice)': `0::/kubepods.slice/kubepods-${POD_SLICE}.slice/cri-containerd-${ID}.scope\n`,
  'cri-o, cgroup v2, systemd driver': `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-${POD_SLICE}.slice/crio-${ID}.scope\n`,
  'cri-o, cgroup v1, cgroupfs driver': `9:memory:/kubepods/burstable/${POD}/crio-${ID}\n`,
  'podman, cgroup v2, systemd driver (root)': `0::/machine.slice/libpod-${ID}.scope/container\n`,
  'podman, rootless': `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope\n`,
  'podman, cgroup v1, cgroupfs driver': `5:memory:/libpod_parent/libpod-${ID}\n`,
};

for (const [runtime, text] of Object.entries(SAMPLES)) {
  test(`container id from /proc/PID/cgroup: ${runtime}`, () => {
    assert.equal(containerIdFromCgroup(text), ID);
  });
}

test('no container: host processes, conmon, short ids and foreign hashes', () => {
  assert.equal(containerIdFromCgroup('0::/user.slice/user-0.slice/session-3.scope\n'), undefined);
  assert.equal(containerIdFromCgroup('0::/\n'), undefined);
  assert.equal(containerIdFromCgroup(`0::/machine.slice/libpod-conmon-${ID}.scope\n`), undefined);
  assert.equal(containerIdFromCgroup(`0::/system.slice/crio-conmon-${ID}.scope\n`), undefined);
  assert.equal(
    containerIdFromCgroup('4:memory:/process_api/d3615991d8ed5254bc56d724ad433df9\n0::/\n'),
    undefined,
  );
  assert.equal(containerIdFromCgroup(`0::/docker/${ID.toUpperCase()}\n`), undefined);
  assert.equal(containerIdFromCgroup(''), undefined);
});

test('the unified line wins over stale v1 controllers; the innermost id wins when nested', () => {
  const other = 'a'.repeat(64);
  assert.equal(containerIdFromCgroup(`4:memory:/docker/${other}\n0::/docker/${ID}\n`), ID);
  assert.equal(containerIdFromCgroup(`0::/docker/${other}/docker/${ID}\n`), ID);
});

test('containerIdOfPid reads /proc/PID/cgroup, and a gone process has none', async () => {
  const proc = await mkdtemp(join(tmpdir(), 'sysfence-proc-'));
  try {
    await mkdir(join(proc, '42'));
    await writeFile(join(proc, '42', 'cgroup'), `0::/system.slice/docker-${ID}.scope\n`);
    assert.equal(await containerIdOfPid(42, proc), ID);
    assert.equal(await containerIdOfPid(43, proc), undefined);
    // This test runs on the host, not in a container.
    assert.equal(await containerIdOfPid(process.pid), undefined);
  } finally {
    await rm(proc, { recursive: true, force: true });
  }
});

async function cgroupTree(unifiedBelow: string, directories: readonly string[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sysfence-cgroup-'));
  const unified = join(root, unifiedBelow);
  await mkdir(unified, { recursive: true });
  await writeFile(join(unified, 'cgroup.controllers'), 'cpu memory pids\n');
  for (const directory of directories) await mkdir(join(unified, directory), { recursive: true });
  return root;
}

const LAYOUTS: Readonly<Record<string, string>> = {
  'docker systemd': `system.slice/docker-${ID}.scope`,
  'docker cgroupfs': `docker/${ID}`,
  'podman systemd': `machine.slice/libpod-${ID}.scope`,
  'podman cgroupfs': `libpod_parent/libpod-${ID}`,
  'containerd kubepods systemd': `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-${POD_SLICE}.slice/cri-containerd-${ID}.scope`,
  'containerd kubepods cgroupfs': `kubepods/besteffort/${POD}/${ID}`,
  'cri-o kubepods systemd': `kubepods.slice/kubepods-${POD_SLICE}.slice/crio-${ID}.scope`,
  'podman rootless': `user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
};

for (const [layout, directory] of Object.entries(LAYOUTS)) {
  test(`cgroupPathOfContainer finds the ${layout} layout`, async () => {
    const root = await cgroupTree('', ['system.slice/ssh.service', `kubepods.slice/other`, directory]);
    try {
      assert.equal(await cgroupPathOfContainer(ID, root), join(root, directory));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('cgroupPathOfContainer uses ROOT/unified on a hybrid host', async () => {
  const root = await cgroupTree('unified', [`system.slice/docker-${ID}.scope`]);
  try {
    await mkdir(join(root, 'memory', 'docker', ID), { recursive: true }); // a v1 hierarchy: never returned
    assert.equal(
      await cgroupPathOfContainer(ID, root),
      join(root, 'unified', `system.slice/docker-${ID}.scope`),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('cgroupPathOfContainer errors name the paths tried, reject short ids and v1-only roots', async () => {
  const root = await cgroupTree('', ['system.slice/ssh.service', `machine.slice/libpod-conmon-${ID}.scope`]);
  try {
    await assert.rejects(cgroupPathOfContainer(ID, root), (error: Error) => {
      assert.match(error.message, new RegExp(`no cgroup v2 directory for container ${ID}`));
      assert.ok(error.message.includes(join(root, `system.slice/docker-${ID}.scope`)), error.message);
      assert.ok(error.message.includes(join(root, 'kubepods.slice')), error.message);
      return true;
    });
    await assert.rejects(cgroupPathOfContainer(ID.slice(0, 11), root), /12 to 64 lower-case hex digits/);
    await assert.rejects(cgroupPathOfContainer('../../etc', root), /12 to 64 lower-case hex digits/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const v1Only = await mkdtemp(join(tmpdir(), 'sysfence-cgroup-v1-'));
  try {
    await assert.rejects(cgroupPathOfContainer(ID, v1Only), /no cgroup v2 hierarchy/);
  } finally {
    await rm(v1Only, { recursive: true, force: true });
  }
});

test('cgroupPathOfContainer resolves a short id prefix, and refuses an ambiguous one', async () => {
  const twin = `${ID.slice(0, 12)}${'0'.repeat(52)}`;
  const root = await cgroupTree('', [
    `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-${POD_SLICE}.slice/cri-containerd-${ID}.scope`,
    `system.slice/docker-${'b'.repeat(64)}.scope`,
  ]);
  try {
    const expected = join(
      root,
      `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-${POD_SLICE}.slice/cri-containerd-${ID}.scope`,
    );
    assert.equal(await cgroupPathOfContainer(ID.slice(0, 12), root), expected);
    await mkdir(join(root, `system.slice/docker-${twin}.scope`));
    await assert.rejects(cgroupPathOfContainer(ID.slice(0, 12), root), /ambiguous/);
    assert.equal(await cgroupPathOfContainer(ID.slice(0, 13), root), expected);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

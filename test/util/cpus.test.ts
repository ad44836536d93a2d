import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cgroupCpuQuota, usableCpus } from '../../src/util/cpus.js'

const files = (entries: Record<string, string>) => (path: string): string | null => entries[path] ?? null

test('cgroup v2 cpu.max: a quota rounds up to whole CPUs; "max" and anything malformed are no quota', () => {
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' })), 2)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 2)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' })), 1)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), null)
  for (const bad of ['', 'garbage', '200000', '-5 100000', '200000 0', '1e9 100000', '99999999999999999999 1']) {
    assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': bad })), null, bad)
  }
})

test('cgroup v1: cfs quota over period, -1 is none, either mount name', () => {
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' })), 3)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000' })), 1)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), null)
  assert.equal(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': 'x', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), null)
  assert.equal(cgroupCpuQuota(files({})), null)
})

test('usable CPUs: the cores, capped by the quota, never below one', () => {
  assert.equal(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '200000 100000' }), 64), 2)
  assert.equal(usableCpus(files({ '/sys/fs/cgroup/cpu.max': '800000 100000' }), 4), 4)
  assert.equal(usableCpus(files({}), 8), 8)
  assert.equal(usableCpus(files({}), 0), 1)
  assert.ok(usableCpus() >= 1)
})

import { metricsText } from './metrics';

const sample = {
  bgpPeers: { Established: 2, Active: 1 },
  bgpRoutes: 7,
  felixRoutes: 3,
  datastoreInSync: true,
  uptimeSeconds: 42,
  residentMemoryBytes: 123456,
};

test('every series in Prometheus text format, with all BGP states', () => {
  expect(metricsText(sample)).toBe(
    [
      '# HELP margay_bgp_peers BGP sessions by FSM state.',
      '# TYPE margay_bgp_peers gauge',
      'margay_bgp_peers{state="Idle"} 0',
      'margay_bgp_peers{state="Connect"} 0',
      'margay_bgp_peers{state="Active"} 1',
      'margay_bgp_peers{state="OpenSent"} 0',
      'margay_bgp_peers{state="OpenConfirm"} 0',
      'margay_bgp_peers{state="Established"} 2',
      '# HELP margay_bgp_routes Best routes in the BGP Loc-RIB.',
      '# TYPE margay_bgp_routes gauge',
      'margay_bgp_routes 7',
      '# HELP margay_felix_routes Kernel routes programmed by felix.',
      '# TYPE margay_felix_routes gauge',
      'margay_felix_routes 3',
      '# HELP margay_datastore_in_sync 1 once the datastore snapshot is complete.',
      '# TYPE margay_datastore_in_sync gauge',
      'margay_datastore_in_sync 1',
      '# HELP margay_uptime_seconds Seconds since margay-node started.',
      '# TYPE margay_uptime_seconds gauge',
      'margay_uptime_seconds 42',
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      'process_resident_memory_bytes 123456',
      '',
    ].join('\n'),
  );
});

test('without felix there is no felix series; out of sync is 0', () => {
  const text = metricsText({ ...sample, felixRoutes: undefined, datastoreInSync: false });
  expect(text).not.toContain('margay_felix_routes');
  expect(text).toContain('\nmargay_datastore_in_sync 0\n');
});

test('policy counters appear only when felix enforces policy', () => {
  const felixPolicy = {
    applies: 5,
    failures: 1,
    lastApplyDurationMs: 250,
    lastBytesWritten: 900,
    totalBytesWritten: 12000,
    lastChainsChanged: 3,
    localEndpoints: 4,
    activePolicies: 2,
    activeProfiles: 1,
    ipSets: 6,
  };
  const text = metricsText({ ...sample, felixPolicy });
  expect(text).toContain(
    '# TYPE margay_felix_policy_applies_total counter\nmargay_felix_policy_applies_total 5\n',
  );
  expect(text).toContain('\nmargay_felix_policy_apply_failures_total 1\n');
  expect(text).toContain('\nmargay_felix_policy_bytes_written_total 12000\n');
  expect(text).toContain('\nmargay_felix_policy_last_apply_seconds 0.25\n');
  expect(text).toContain('\nmargay_felix_policy_ipsets 6\n');
  expect(text).toContain('\nmargay_felix_policy_active_policies 2\n');
  expect(metricsText(sample)).not.toContain('margay_felix_policy');
});

//! HPC clusters through the app: registration gates, heartbeats and staleness in
//! end-block, node metadata, offerings, and scheduling onto a proximity group.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hpc_common;
use hpc_common::*;
use ve_hpc::proto as hp;

fn heartbeat(
    h: &Hpc,
    cluster: u64,
    available: u32,
    peers: &[(u64, u32)],
) -> hp::MsgClusterHeartbeat {
    hp::MsgClusterHeartbeat {
        provider: h.c.users[PROVIDER].s(),
        cluster_id: cluster,
        available_nodes: available,
        avg_latency_ms: 2,
        peer_latencies: peers
            .iter()
            .map(|(id, ms)| hp::PeerLatency {
                cluster_id: *id,
                latency_ms: *ms,
            })
            .collect(),
        drain: false,
    }
}

#[test]
fn cluster_registration_needs_tier_standard_and_an_mfa_session() {
    let mut c = chain(6);
    c.set_score(PROVIDER, 80);
    let m = cluster_msg(&c, "alpha", 4, "eu-west");
    c.try_send(PROVIDER, vec![any(&m)], &[]).refused("mfa", 13);
    c.set_score(PROVIDER, 60);
    let m = cluster_msg(&c, "alpha", 4, "eu-west");
    c.try_send(PROVIDER, vec![any(&m)], &[])
        .refused("identity", 28);
}

#[test]
fn bad_cluster_input_is_refused_with_a_clear_error() {
    let h = hpc();
    let mut c = h.c;
    let mut m = cluster_msg(&c, "x", 4, "eu-west");
    m.partitions[0].nodes = 9;
    let r = c.try_send(PROVIDER, vec![any(&m)], &[]);
    r.refused("hpc", 2);
    assert!(r.log.contains("partition batch"), "{}", r.log);
    let mut m = cluster_msg(&c, "x", 4, "eu-west");
    m.total_nodes = 0;
    c.try_send(PROVIDER, vec![any(&m)], &[]).refused("hpc", 2);
}

#[test]
fn stale_heartbeat_marks_cluster_offline_and_the_next_heartbeat_revives_it() {
    let mut h = hpc();
    let id = h.cluster;
    h.after(200);
    assert_eq!(
        h.cluster(id).cluster.unwrap().state,
        hp::ClusterState::Active as i32
    );
    // Nodes go stale first (120 s), the cluster at 300 s.
    let nodes = h.cluster(id).nodes;
    assert!(
        nodes.iter().all(|n| n.state == hp::NodeState::Stale as i32),
        "{nodes:?}"
    );
    h.after(120);
    assert_eq!(
        h.cluster(id).cluster.unwrap().state,
        hp::ClusterState::Offline as i32
    );
    let m = h.submit_msg(1, 2);
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 5);

    let hb = heartbeat(&h, id, 3, &[]);
    let r = h.c.send(PROVIDER, vec![any(&hb)], &[]);
    r.ok();
    assert!(r.has_event("hpc_cluster_online"));
    let c = h.cluster(id).cluster.unwrap();
    assert_eq!(
        (c.state, c.available_nodes),
        (hp::ClusterState::Active as i32, 3)
    );
    h.submit();
}

#[test]
fn heartbeats_keep_a_cluster_active_and_only_its_provider_sends_them() {
    let mut h = hpc();
    let id = h.cluster;
    for _ in 0..4 {
        h.c.node.advance_time(200);
        let hb = heartbeat(&h, id, 4, &[]);
        h.c.send(PROVIDER, vec![any(&hb)], &[]).ok();
    }
    assert_eq!(
        h.cluster(id).cluster.unwrap().state,
        hp::ClusterState::Active as i32
    );
    let mut hb = heartbeat(&h, id, 4, &[]);
    hb.provider = h.c.users[STRANGER].s();
    h.c.try_send(STRANGER, vec![any(&hb)], &[])
        .refused("hpc", 10);
    let hb = heartbeat(&h, id, 5, &[]);
    h.c.try_send(PROVIDER, vec![any(&hb)], &[])
        .refused("hpc", 2);
}

#[test]
fn node_reports_with_an_old_sequence_are_refused() {
    let mut h = hpc();
    let m = node_msg(&h.c, h.cluster, "n1", CONTRIBUTOR, 8, 1);
    h.c.try_send(PROVIDER, vec![any(&m)], &[])
        .refused("hpc", 13);
    let m = node_msg(&h.c, h.cluster, "n1", CONTRIBUTOR, 16, 2);
    h.c.send(PROVIDER, vec![any(&m)], &[]).ok();
    let n = h.cluster(h.cluster).nodes;
    let n1 = n.iter().find(|n| n.node_id == "n1").unwrap();
    assert_eq!(
        (n1.sequence, n1.capacity.as_ref().unwrap().cpu_cores),
        (2, 16)
    );
    assert_eq!(n1.operator, h.c.users[CONTRIBUTOR].s());
}

#[test]
fn offerings_must_use_the_clusters_partitions_and_the_providers_own_cluster() {
    let mut h = hpc();
    let mut m = offering_msg(&h.c, h.cluster, 0);
    m.queues[0].partition = "gpu".into();
    h.c.try_send(PROVIDER, vec![any(&m)], &[]).refused("hpc", 2);
    let mut m = offering_msg(&h.c, h.cluster, 0);
    m.provider = h.c.users[STRANGER].s();
    h.c.try_send(STRANGER, vec![any(&m)], &[])
        .refused("hpc", 10);
    let mut m = offering_msg(&h.c, h.cluster, 0);
    m.pricing.as_mut().unwrap().node_hour = "-5".into();
    h.c.try_send(PROVIDER, vec![any(&m)], &[])
        .refused("hpc", 11);
}

#[test]
fn job_larger_than_any_cluster_runs_on_a_proximity_group_and_far_clusters_are_left_out() {
    let mut h = hpc();
    let a = h.cluster;
    // Two more clusters in one tx (one MFA session): b is 5 ms from a, c is 200 ms away.
    let s = cluster_session(&mut h.c, &mut h.auth);
    let mb = cluster_msg(&h.c, "beta", 4, "eu-west");
    let mc = cluster_msg(&h.c, "gamma", 4, "eu-west");
    let r = h.c.send(PROVIDER, vec![any(&mb), any(&mc)], &[s]);
    r.ok();
    let b = r.response::<hp::MsgRegisterClusterResponse>(0).cluster_id;
    let c = r.response::<hp::MsgRegisterClusterResponse>(1).cluster_id;
    let hbs = vec![
        any(&heartbeat(&h, a, 4, &[(b, 5), (c, 200)])),
        any(&heartbeat(&h, b, 4, &[(a, 6), (c, 210)])),
        any(&heartbeat(&h, c, 4, &[(a, 200), (b, 210)])),
    ];
    h.c.send(PROVIDER, hbs, &[]).ok();
    assert_eq!(h.cluster(a).proximity_group, vec![a, b]);

    let m = h.submit_msg(6, 2);
    let r = h.c.send(TENANT, vec![any(&m)], &[]);
    r.ok();
    let resp: hp::MsgSubmitJobResponse = r.response(0);
    assert_eq!(resp.selected_cluster_ids, vec![a, b]);
    let d = h.job(resp.job_id).decision.unwrap();
    assert!(d.virtual_supercomputer, "{}", d.decision_reason);

    // 9 nodes: more than the group has.
    let m = h.submit_msg(9, 2);
    h.c.try_send(TENANT, vec![any(&m)], &[]).refused("hpc", 12);
}

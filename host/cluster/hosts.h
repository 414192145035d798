/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * up --hosts H: one cluster spread over H "hosts" of this machine, to try
 * and test relay links (omhostd.md, "Links between hosts") without H
 * machines. Host h is a network namespace of its own holding a relay that
 * serves a contiguous range of the nodes; the hosts reach each other only
 * through a veth pair each, plugged into a bridge in one more namespace
 * (the switch), host h at OM_HOSTS_NET.h/24; the relays share one
 * generated key file. The guests' QEMUs stay in ours: their vhost-user
 * sockets are files, which no network namespace hides.
 * (docs/cluster-tool.md, "Clusters across hosts".)
 */
#ifndef OM_CLUSTER_HOSTS_H
#define OM_CLUSTER_HOSTS_H

#include <limits.h>
#include <stddef.h>

#define OM_MAX_HOSTS 8
/* Where each host's relay listens for the others: OM_HOSTS_NET "H":OM_HOSTS_PORT. */
#define OM_HOSTS_NET "10.78.0."
#define OM_HOSTS_PORT 7740
/* The key file the relays share, in the cluster's directory. */
#define OM_HOSTS_PSK_FILE "link.psk"

/* Host h's (1..hosts) nodes of 1..nodes: contiguous, the first ones one more when uneven. */
void om_host_range(unsigned int nodes, unsigned int hosts, unsigned int h, unsigned int *first,
		   unsigned int *last);

/* The host (1..hosts) whose relay serves node; 0 when node is not one of 1..nodes. */
unsigned int om_node_host(unsigned int nodes, unsigned int hosts, unsigned int node);

/*
 * The network namespace of host h (h 0: the switch), named after the
 * cluster and a hash of its directory, "omc-NAME-HASH-hH" or "-sw", so
 * that two clusters of one name in two run directories do not meet. 0 or
 * -ENAMETOOLONG.
 */
int om_hosts_netns(const char *cluster, const char *dir, unsigned int h, char *out, size_t cap);

/* What a host's relay is started with, besides what every relay gets. */
struct om_relay_link {
	char netns[PATH_MAX]; /* /run/netns/NAME: the relay runs in it */
	char name[16];	      /* --name hH */
	char listen[32];      /* --listen ADDR:PORT */
	char psk_file[PATH_MAX];
	unsigned int n_peers;
	char peers[OM_MAX_HOSTS][64]; /* --peer hK=ADDR:PORT:FIRST-LAST */
};

/*
 * The link options of host h's relay in a cluster of nodes over hosts,
 * living in dir. 0 or -ENAMETOOLONG.
 */
int om_hosts_relay_link(const char *cluster, const char *dir, unsigned int nodes,
			unsigned int hosts, unsigned int h, struct om_relay_link *link);

/*
 * Makes the switch and hosts 1..hosts: namespaces, the bridge, a veth pair
 * and an address per host (with `ip`), and the relays' key file (0600, a
 * random key). What exists already of them is an error (-EEXIST): the
 * caller removes leftovers first. On failure, what was made is removed and
 * err says what failed. 0 or -errno.
 */
int om_hosts_create(const char *cluster, const char *dir, unsigned int hosts, char *err,
		    size_t errlen);

/*
 * Removes every namespace of the cluster (those its name and directory
 * give, whatever the state says: an up killed half-way leaves some), and
 * with them the veths. Its relays must be gone first. Returns how many
 * are left.
 */
unsigned int om_hosts_remove(const char *cluster, const char *dir);

#endif /* OM_CLUSTER_HOSTS_H */

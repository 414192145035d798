// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-om wire layout, as the host compiler sees the UAPI header: the
 * sizes the protocol document names, at the offsets it names. The guest
 * kernel and QEMU include the same header; a change that moves a field
 * fails here first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/virtio_om.h>

static void sizes_match_the_named_constants(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct virtio_om_hdr), VIRTIO_OM_HDR_SIZE);
	assert_int_equal(sizeof(struct virtio_om_node_event), VIRTIO_OM_NODE_EVENT_SIZE);
	assert_int_equal(sizeof(struct virtio_om_ping), VIRTIO_OM_PING_SIZE);
	assert_int_equal(sizeof(struct virtio_om_config), 8);
	/* The engine's payloads. */
	assert_int_equal(sizeof(struct virtio_om_mig_begin), VIRTIO_OM_MIG_BEGIN_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_vmas), VIRTIO_OM_MIG_VMAS_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_vma), VIRTIO_OM_MIG_VMA_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_pages), VIRTIO_OM_MIG_PAGES_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_mark), VIRTIO_OM_MIG_MARK_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_ack), VIRTIO_OM_MIG_ACK_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mig_go), VIRTIO_OM_MIG_GO_SIZE);
	assert_int_equal(sizeof(struct virtio_om_come_home), VIRTIO_OM_COME_HOME_SIZE);
	assert_int_equal(sizeof(struct virtio_om_cpu_query), VIRTIO_OM_CPU_QUERY_SIZE);
	assert_int_equal(sizeof(struct virtio_om_cpu_info), VIRTIO_OM_CPU_INFO_SIZE);
	assert_int_equal(sizeof(struct virtio_om_syscall), VIRTIO_OM_SYSCALL_SIZE);
	assert_int_equal(sizeof(struct virtio_om_syscall_ret), VIRTIO_OM_SYSCALL_RET_SIZE);
	assert_int_equal(sizeof(struct virtio_om_signal), VIRTIO_OM_SIGNAL_SIZE);
	assert_int_equal(sizeof(struct virtio_om_exit), VIRTIO_OM_EXIT_SIZE);
	assert_int_equal(sizeof(struct virtio_om_kill), VIRTIO_OM_KILL_SIZE);
	assert_int_equal(sizeof(struct virtio_om_stopped), VIRTIO_OM_STOPPED_SIZE);
	assert_int_equal(sizeof(struct virtio_om_sigset), VIRTIO_OM_SIGSET_SIZE);
	assert_int_equal(sizeof(struct virtio_om_fork), VIRTIO_OM_FORK_SIZE);
	assert_int_equal(sizeof(struct virtio_om_fork_cancel), VIRTIO_OM_FORK_CANCEL_SIZE);
	assert_int_equal(sizeof(struct virtio_om_handover), VIRTIO_OM_HANDOVER_SIZE);
	assert_int_equal(sizeof(struct virtio_om_load), VIRTIO_OM_LOAD_SIZE);
	assert_int_equal(sizeof(struct virtio_om_load_entry), VIRTIO_OM_LOAD_ENTRY_SIZE);
	assert_int_equal(sizeof(struct virtio_om_proc_flags), VIRTIO_OM_PROC_FLAGS_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mem_req), VIRTIO_OM_MEM_REQ_SIZE);
	assert_int_equal(sizeof(struct virtio_om_mem_data), VIRTIO_OM_MEM_DATA_SIZE);
	assert_int_equal(sizeof(struct virtio_om_proc_read), VIRTIO_OM_PROC_READ_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_open), VIRTIO_OM_RFILE_OPEN_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_info), VIRTIO_OM_RFILE_INFO_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_read), VIRTIO_OM_RFILE_READ_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_data), VIRTIO_OM_RFILE_DATA_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_close), VIRTIO_OM_RFILE_CLOSE_SIZE);
	assert_int_equal(sizeof(struct virtio_om_rfile_forget), VIRTIO_OM_RFILE_FORGET_SIZE);
	assert_int_equal(sizeof(struct virtio_om_deleg), VIRTIO_OM_DELEG_SIZE);
	assert_int_equal(sizeof(struct virtio_om_deleg_flush), VIRTIO_OM_DELEG_FLUSH_SIZE);
	assert_int_equal(sizeof(struct virtio_om_deleg_lock), VIRTIO_OM_DELEG_LOCK_SIZE);
	assert_int_equal(sizeof(struct virtio_om_deleg_done), VIRTIO_OM_DELEG_DONE_SIZE);
	assert_int_equal(sizeof(struct virtio_om_deleg_recall), VIRTIO_OM_DELEG_RECALL_SIZE);
	assert_int_equal(sizeof(struct virtio_om_names), VIRTIO_OM_NAMES_SIZE);
	assert_int_equal(sizeof(struct virtio_om_proc_data), VIRTIO_OM_PROC_DATA_SIZE);
}

static void header_offsets(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct virtio_om_hdr, version), 0);
	assert_int_equal(offsetof(struct virtio_om_hdr, type), 2);
	assert_int_equal(offsetof(struct virtio_om_hdr, flags), 4);
	assert_int_equal(offsetof(struct virtio_om_hdr, src_node), 8);
	assert_int_equal(offsetof(struct virtio_om_hdr, dst_node), 12);
	assert_int_equal(offsetof(struct virtio_om_hdr, src_pid), 16);
	assert_int_equal(offsetof(struct virtio_om_hdr, dst_pid), 20);
	assert_int_equal(offsetof(struct virtio_om_hdr, seq), 24);
	assert_int_equal(offsetof(struct virtio_om_hdr, reply_to), 32);
	assert_int_equal(offsetof(struct virtio_om_hdr, len), 40);
	assert_int_equal(offsetof(struct virtio_om_hdr, reserved), 44);
}

static void ids_and_ranges(void **state)
{
	(void)state;
	/* virtio-pci device IDs are 0x1040 + ID and stop at 0x107f. */
	assert_true(VIRTIO_ID_OM <= 63);
	assert_true(VIRTIO_OM_T_NODE_DOWN < VIRTIO_OM_T_MIGRATION_FIRST);
	assert_true(VIRTIO_OM_T_MIGRATION_LAST < VIRTIO_OM_T_SYSCALL_FIRST);
	assert_true(VIRTIO_OM_T_SYSCALL_LAST < VIRTIO_OM_T_MEMORY_FIRST);
	assert_true(VIRTIO_OM_T_MEMORY_LAST < VIRTIO_OM_T_TEST_DATA);
	assert_true(VIRTIO_OM_T_TEST_DATA <= 0xffff);
	assert_int_equal(VIRTIO_OM_F_ALL & VIRTIO_OM_F_REPLY, VIRTIO_OM_F_REPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_match_the_named_constants),
		cmocka_unit_test(header_offsets),
		cmocka_unit_test(ids_and_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

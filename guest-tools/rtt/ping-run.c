// SPDX-License-Identifier: GPL-2.0-only
#include "ping-run.h"

#include <getopt.h>

#include <linux/virtio_om.h>

#include "mono-time.h"
#include "parse-u32.h"

int ping_parse_options(int argc, char **argv, const char *prog, uint32_t port_max,
		       void (*usage)(FILE *f), struct ping_options *o)
{
	int opt, rc;

	while ((opt = getopt(argc, argv, "c:i:t:p:qsh")) != -1) {
		rc = 0;
		switch (opt) {
		case 'c':
			rc = parse_u32(optarg, 1, UINT32_MAX, &o->count);
			break;
		case 'i':
			rc = parse_u32(optarg, 0, 3600000, &o->interval_ms);
			break;
		case 't':
			rc = parse_u32(optarg, 1, 3600000, &o->timeout_ms);
			break;
		case 'p':
			rc = parse_u32(optarg, 1, port_max, &o->port);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 's':
			o->serve = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (rc) {
			fprintf(stderr, "%s: bad value for -%c: %s\n", prog, opt, optarg);
			return 2;
		}
	}
	return PING_OPTIONS_PARSED;
}

int ping_run_prepare(struct ping_run *run)
{
	if (rtt_samples_init(&run->rtts, run->opt.count) == 0)
		return 0;
	fprintf(stderr, "%s: no memory to keep %u round-trip times\n", run->prog,
		run->opt.count);
	return 2;
}

int ping_run(struct ping_run *run, const struct ping_transport *t)
{
	const struct ping_options *o = &run->opt;
	uint32_t sent = 0;
	int status;

	for (uint32_t seq = 1; seq <= o->count; seq++) {
		double t0 = mono_now_ms();
		enum ping_step r = t->send(t->ctx, seq);

		if (r == PING_FATAL) {
			rtt_samples_free(&run->rtts);
			return 2;
		}
		if (r == PING_DONE) {
			sent++;
			r = t->wait(t->ctx, seq, t0 + o->timeout_ms);
		}
		if (r == PING_DONE) {
			double rtt = mono_now_ms() - t0;

			rtt_samples_add(&run->rtts, rtt); /* one per request: never beyond count */
			if (!o->quiet)
				fprintf(run->out, "%d bytes from %s: seq=%u time=%.3f ms\n",
					VIRTIO_OM_PING_SIZE, run->peer, seq, rtt);
		} else if (r == PING_TIMEOUT) {
			if (!o->quiet)
				fprintf(run->out, "no reply from %s: seq=%u (timeout %u ms)\n",
					run->peer, seq, o->timeout_ms);
		} else {
			break;
		}
		if (seq < o->count && o->interval_ms)
			mono_sleep_until_ms(t0 + o->interval_ms);
	}

	fprintf(run->out, "--- %s %s statistics ---\n", run->peer, run->what);
	rtt_print_summary(run->out, sent, &run->rtts);
	status = run->rtts.n == o->count ? 0 : 1;
	rtt_samples_free(&run->rtts);
	return status;
}

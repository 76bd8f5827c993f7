// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl attach, detach. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "fsutil.h"
#include "instance.h"
#include "log.h"

static int check_iface_name(const char *name)
{
	if (!name[0] || strlen(name) >= IF_NAMESIZE)
		return ctl_err(-EINVAL, "bad interface name '%s'",
			       ctl_quote(name));
	if (!if_nametoindex(name))
		return ctl_err(-ENODEV, "no interface %s", ctl_quote(name));
	return 0;
}

void ctl_print_attach_state(const char *ifname, const struct attach_state *st)
{
	print_obj_start(NULL);
	print_str("interface", "%-16s", ifname);
	print_bool("xdp", " xdp %s", st->xdp);
	if (st->xdp) {
		print_str("xdp_mode", " (%s", xdp_attach_mode_name(st->mode));
		print_uint("xdp_prog_id", ", prog id %llu)", st->xdp_prog_id);
	}
	print_bool("tc_egress", "  tc egress %s", st->tc);
	if (st->tc)
		print_uint("tc_prog_id", " (prog id %llu)", st->tc_prog_id);
	print_text("\n");
	print_obj_end();
}

/* Migrating maps of an older ABI needs them to oneself: a relayguardd
 * running on them would go on reading the old ring buffer and writing
 * bans into the old maps. The lock (fd, or -1) is held until exit. */
static int upgrade_lock(int *fd)
{
	unsigned int abi;
	pid_t holder;
	int err;

	*fd = -1;
	err = loader_pinned_abi(ctl.pin_dir, &abi);
	if (err || !abi || abi == RG_ABI_VERSION)
		return err;
	*fd = instance_lock(ctl.pin_dir, &holder);
	if (*fd == -EBUSY)
		return ctl_err(
			-EBUSY,
			"attach: the maps under %s are of ABI version %u and "
			"relayguardd (pid %d) runs on them; stop it, "
			"then start this build's relayguardd (it "
			"migrates them)",
			ctl.pin_dir, abi, (int)holder);
	return *fd < 0 ? ctl_err(*fd, "attach: cannot lock %s: %s", ctl.pin_dir,
				 log_strerror(*fd))
		       : 0;
}

int do_attach(int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_ATTACH_AUTO, used;
	struct attach_state st;
	struct loader *l = NULL;
	int err, lock;

	if (argc < 1)
		return ctl_err(-EINVAL, "attach: missing IFACE");
	err = check_iface_name(argv[0]);
	if (err)
		return err;
	if (argc > 1 && xdp_attach_mode_parse(argv[1], &mode))
		return ctl_err(-EINVAL,
			       "attach: bad mode '%s': native, generic or auto",
			       ctl_quote(argv[1]));
	err = ctl_no_args(argc - 2 > 0 ? argc - 2 : 0, argv + 2, "attach");
	if (err)
		return err;
	err = upgrade_lock(&lock);
	if (err)
		return err;
	err = loader_load(ctl.pin_dir, &l);
	if (!err)
		err = loader_attach(l, argv[0], mode, &used);
	loader_free(l);
	fs_close(lock);
	if (err)
		return err;
	err = loader_query(argv[0], &st);
	if (err)
		return ctl_err(err, "attached to %s but cannot query it: %s",
			       argv[0], log_strerror(err));
	print_text("attached ");
	ctl_print_attach_state(argv[0], &st);
	return 0;
}

/* Purging maps that programs elsewhere still use would leave those
 * programs enforcing bans nobody can see or lift: refused, nothing
 * changed. */
static int purge_allowed(const char *ifname)
{
	struct attach_state st;
	long user;

	if (loader_query(ifname, &st))
		memset(&st, 0, sizeof(st));
	user = loader_maps_user(ctl.pin_dir, st.xdp_prog_id);
	if (user < 0)
		return ctl_err(user,
			       "detach %s --purge: cannot list BPF "
			       "programs: %s",
			       ifname, log_strerror(user));
	if (user)
		return ctl_err(-EBUSY,
			       "detach %s --purge: the maps under %s "
			       "are still used by relayguard XDP program %ld "
			       "(on another interface, or loaded by a running "
			       "relayguardd); detach or stop it first; nothing "
			       "changed",
			       ifname, ctl.pin_dir, user);
	return 0;
}

int do_detach(int argc, char **argv)
{
	bool purge = false;
	int err, i;

	if (argc < 1)
		return ctl_err(-EINVAL, "detach: missing IFACE");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--purge"))
			return ctl_no_args(argc - i, argv + i, "detach");
		purge = true;
	}
	err = check_iface_name(argv[0]);
	if (err)
		return err;
	if (purge) {
		err = purge_allowed(argv[0]);
		if (err)
			return err;
	}
	err = loader_detach(argv[0]);
	if (err)
		return err;
	if (purge) {
		err = loader_purge(ctl.pin_dir);
		if (err)
			return err;
	}
	print_obj_start(NULL);
	print_str("detached", "detached %s", argv[0]);
	print_bool("purged", purge ? ", maps purged\n" : "\n", purge);
	print_obj_end();
	return 0;
}

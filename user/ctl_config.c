// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* relayguardctl config show, config set KEY VALUE. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "dpconfig.h"
#include "log.h"

static int read_config(const struct rg_maps *maps, struct rg_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(maps->config, &key, cfg))
		return ctl_err(-errno, "cannot read map config: %s",
			       log_strerror(-errno));
	return 0;
}

static void print_config(const struct rg_config *cfg)
{
	char buf[128];
	int i;

	print_obj_start(NULL);
	for (i = 0; dpconfig_keys[i]; i++) {
		dpconfig_get(cfg, dpconfig_keys[i], buf, sizeof(buf));
		print_text("%-18s = ", dpconfig_keys[i]);
		print_str(dpconfig_keys[i], "%s\n", buf);
	}
	print_obj_end();
}

static int show_config(const struct rg_maps *maps, void *unused)
{
	struct rg_config cfg;
	int err = read_config(maps, &cfg);

	(void)unused;
	if (!err)
		print_config(&cfg);
	return err;
}

static int config_show(int argc, char **argv)
{
	return ctl_no_args(argc, argv, "config show")
		       ?: ctl_on_maps(show_config, NULL);
}

static int config_set(int argc, char **argv)
{
	struct rg_config cfg;
	struct rg_maps maps;
	const char *why = "";
	char buf[128];
	int err;

	if (argc != 2)
		return ctl_err(-EINVAL, "config set: expected KEY VALUE");
	err = ctl_open_maps(&maps);
	if (err)
		return err;
	err = read_config(&maps, &cfg);
	if (err)
		goto out;
	err = dpconfig_set(&cfg, argv[0], argv[1], &why);
	if (err == -ENOENT) {
		ctl_err(-EINVAL,
			"config set: unknown key '%s'; see 'relayguardctl "
			"help' for the keys",
			ctl_quote(argv[0]));
		err = -EINVAL;
		goto out;
	}
	if (err) {
		ctl_err(err, "config set %s: bad value '%s': expected %s",
			argv[0], ctl_quote(argv[1]), why);
		goto out;
	}
	err = dpconfig_store(maps.config, &cfg);
	if (err) {
		ctl_err(err, "cannot write map config: %s", log_strerror(err));
		goto out;
	}
	maps_acl_changed(&maps);
	dpconfig_get(&cfg, argv[0], buf, sizeof(buf));
	print_obj_start(NULL);
	print_str("key", "%s = ", argv[0]);
	print_str("value", "%s\n", buf);
	print_obj_end();
out:
	maps_close(&maps);
	return err;
}

static const struct ctl_cmd config_cmds[] = {
	{ "show", config_show },
	{ "set", config_set },
	{ NULL, NULL },
};

int do_config(int argc, char **argv)
{
	return ctl_dispatch("config COMMAND", config_cmds, argc, argv);
}

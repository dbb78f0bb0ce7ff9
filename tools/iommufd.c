// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd(1): is iommufd usable here (info), which PCI devices can be handed
 * to it (devices), and the library at work on an emulated or real device
 * (demo). See man/iommufd.1.
 *
 * This file is the command line: the options, the subcommand table, the exit
 * codes. Each subcommand lives in its own file (info.c, devices.c, demo.c);
 * they read files through rootfs.c, so the tests run them on fake trees
 * (--root), and print --json through json.c.
 * libc, libkmod and zlib only: no external program is run.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static const char *prog = "iommufd";

static const struct tool_cmd *const commands[] = {
	&tool_cmd_info,
	&tool_cmd_devices,
	&tool_cmd_demo,
};

void errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS]\n"
		"Is iommufd usable here, which devices can use it, and the library at work.\n"
		"\n"
		"Commands:\n",
		prog);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		fprintf(f, "  %-8s ", commands[i]->name);
		for (const char *h = commands[i]->help; *h; h++) {
			if (*h == '\n')
				fputs("\n           ", f); /* under the help of the line above */
			else
				fputc(*h, f);
		}
		fputc('\n', f);
	}
	fprintf(f,
		"\n"
		"Options:\n"
		"  --json           machine-readable output (info, devices)\n"
		"  --root DIR       read /dev, /sys, /proc, /boot, /lib/modules under DIR (info,\n"
		"                   devices; default: $IOMMUFD_ROOT, else /)\n"
		"  --device DEV     demo: a PCI address (0000:00:02.0) or cdev path on vfio-pci\n"
		"  -h, --help       this help\n"
		"  --version        the version\n"
		"\n"
		"Exit status: 0 success (info: iommufd usable); 1 an operation failed;\n"
		"2 usage error; 3 info: iommufd not usable here, devices: no sysfs, demo: the device\n"
		"or /dev/iommu is not usable.\n");
}

static const struct tool_cmd *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_DEVICE, OPT_VERSION };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	const char *root_arg = secure_getenv("IOMMUFD_ROOT");
	const struct tool_cmd *cmd;
	struct tool_args args = { 0 };
	bool root_given = false;
	int c;

	if (argc < 2) {
		errorf("missing command (info, devices or demo); try --help");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, IOMMUFD_VERSION);
		return EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		errorf("unknown command '%s' (info, devices or demo); try --help", argv[1]);
		return EXIT_USAGE;
	}
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			args.json = true;
			break;
		case OPT_ROOT:
			root_arg = optarg;
			root_given = true;
			break;
		case OPT_DEVICE:
			args.device = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("%s %s\n", prog, IOMMUFD_VERSION);
			return EXIT_OK;
		default:
			errorf("%s: unknown option or missing argument: %s; try --help", cmd->name,
			       argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errorf("%s: unexpected argument '%s'; try --help", cmd->name, argv[optind]);
		return EXIT_USAGE;
	}
	if ((args.device && !(cmd->opts & TOOL_OPT_DEVICE)) || (args.json && !(cmd->opts & TOOL_OPT_JSON)) ||
	    (root_given && !(cmd->opts & TOOL_OPT_ROOT))) {
		errorf("%s: option %s is not for this command; try --help", cmd->name,
		       args.device && !(cmd->opts & TOOL_OPT_DEVICE) ? "--device"
		       : args.json && !(cmd->opts & TOOL_OPT_JSON) ? "--json"
								    : "--root");
		return EXIT_USAGE;
	}
	if (args.device && !*args.device) {
		errorf("%s: --device needs a PCI address or a cdev path", cmd->name);
		return EXIT_USAGE;
	}
	if (root_arg && *root_arg && (cmd->opts & TOOL_OPT_ROOT)) {
		char *r = realpath(root_arg, NULL);

		if (!r || strlen(r) > PATH_MAX / 2 || root_set(r) < 0) {
			errorf("--root %s: not a directory", root_arg);
			free(r);
			return EXIT_USAGE;
		}
		free(r);
	}
	return cmd->run(&args);
}

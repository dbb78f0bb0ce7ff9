// SPDX-License-Identifier: LGPL-2.1-or-later
/* The debugfs stand-in: the fault-injection knobs in a scratch tree. */
#include "preload.h"

char g_debugfs[PATH_MAX];
DIR *g_debugfs_dir;

/* ------------------------------------------------------------ debugfs stand-in */

void rm_tree(const char *dir)
{
	DIR *d = REAL(opendir)(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(p);
		else
			unlink(p);
	}
	REAL(closedir)(d);
	rmdir(dir);
}

static int put_file(const char *dir, const char *rel, const char *val)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = REAL(open)(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (REAL(write)(fd, val, strlen(val)) < 0) {
		REAL(close)(fd);
		return -1;
	}
	return REAL(close)(fd);
}

DIR *debugfs_open(void)
{
	static const char *const knobs[] = { "failslab", "fail_page_alloc", "fail_usercopy",
					     "fail_iommufd" };
	char tmpl[] = "/tmp/iommufd-preload-debugfs.XXXXXX";
	char p[PATH_MAX];
	DIR *d;

	in_emu++;
	if (!mkdtemp(tmpl)) {
		in_emu--;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpl, knobs[i]);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/verbose", knobs[i]);
		put_file(tmpl, p, "2\n");
		snprintf(p, sizeof(p), "%s/ignore-gfp-wait", knobs[i]);
		put_file(tmpl, p, "Y\n");
	}
	put_file(tmpl, "fail_page_alloc/ignore-gfp-highmem", "Y\n");
	d = REAL(opendir)(tmpl);
	if (d) {
		pthread_mutex_lock(&g_lock);
		if (g_debugfs[0])
			rm_tree(g_debugfs);
		snprintf(g_debugfs, sizeof(g_debugfs), "%s", tmpl);
		g_debugfs_dir = d;
		pthread_mutex_unlock(&g_lock);
		pdbg("debugfs -> %s", tmpl);
	} else {
		rm_tree(tmpl);
	}
	in_emu--;
	return d;
}

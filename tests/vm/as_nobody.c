/* SPDX-License-Identifier: MIT */
/*
 * as_nobody COMMAND [ARGS...]: runs COMMAND as user and group 65534 with no
 * supplementary groups and therefore no capabilities, so the VM tests can
 * check what libdrv tells a user who is not root. The guest has no
 * /etc/passwd, which busybox su would need.
 */
#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#define NOBODY 65534

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: as_nobody COMMAND [ARGS...]\n");
		return 2;
	}
	if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0) {
		perror("as_nobody: dropping root");
		return 125;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "as_nobody: root could be regained, refusing to run\n");
		return 125;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}

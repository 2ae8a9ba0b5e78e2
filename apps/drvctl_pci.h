/* SPDX-License-Identifier: MIT */
/* drvctl's PCI commands: list, bind, unbind (argv[0] is the command name). */
#ifndef APPS_DRVCTL_PCI_H
#define APPS_DRVCTL_PCI_H

int drvctl_list(int argc, char **argv);
int drvctl_bind(int argc, char **argv);
int drvctl_unbind(int argc, char **argv);

#endif

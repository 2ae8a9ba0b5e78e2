#!/bin/sh
# Host side of the guest event tests: raise an event in the devsim that serves the guest
# ($DSIM_CTL_SOCK, exported by vm/run --dsim) every 0.3 s until stopped. Events raised
# before the guest's driver resets the device are dropped with it; later ones reach it.
# usage: raise-events.sh DEVSIM [TEXT]
devsim=$1
text=${2:-hello from the host}
while sleep 0.3; do
	"$devsim" event --socket "$DSIM_CTL_SOCK" "$text" 2>/dev/null
done

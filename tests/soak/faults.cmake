# Fault mixes of the soak (docs/reliability.md): devsim rules, one per list element.
# In process: everything the device can do short of disappearing.
set(SOAK_FAULTS_INPROC
    "error,rate=0.002"
    "lost-irq,rate=0.01"
    "hang,every=20000"
    "fatal,every=30000"
    "bad-tag,rate=0.0005"
    "duplicate,rate=0.001"
    "corrupt,field=result,rate=0.0005"
    "late,delay=50ms,rate=0.001")
# A devsim process, also killed every few seconds: storage failures and vanishing too.
set(SOAK_FAULTS_SPAWN
    "error,rate=0.002"
    "hang,every=20000"
    "fatal,every=30000"
    "bad-tag,rate=0.0005"
    "storage-fail,op=flush,every=5000"
    "vanish,every=60000"
    "dma-fail,rate=0.001"
    "late,delay=50ms,rate=0.001")

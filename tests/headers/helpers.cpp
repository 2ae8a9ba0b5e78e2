// SPDX-License-Identifier: MIT
// Calls every inline helper of the installed headers from C++, with the
// argument types a C++ caller has, so that their bodies are compiled as C++
// in a real call (check.sh includes every installed header before this file
// and checks that each helper is called here). Compiled, never run.
#include <drv/driver.h>
#include <drv/drv.h>
#include <drv/edu.h>
#include <drv/mmio.h>

int main()
{
	static char data[64];
	static const char in[] = "in";
	drv_buf *buf = nullptr;
	const drv_sge sgl[2] = { { buf, 0, 16 }, { buf, 16, 16 } };
	drv_req r[10];

	drv_prep(&r[0], DRV_OP_READ, 0, data, sizeof(data));
	drv_prep_nop(&r[1]);
	drv_prep_read(&r[2], 512, data, sizeof(data));
	drv_prep_write(&r[3], 512, in, sizeof(in));
	drv_prep_read_buf(&r[4], 0, buf, 0, 16);
	drv_prep_write_buf(&r[5], 0, buf, 16, 16);
	drv_prep_rw_sgl(&r[6], DRV_OP_WRITE, 0, sgl, 2);
	drv_prep_flush(&r[7]);
	drv_prep_control(&r[8], EDU_CTL_LIVENESS, in, sizeof(in), data, sizeof(data));
	drv_prep_wait_event(&r[9], data, sizeof(data));

	int done = 0;
	for (const drv_req &req : r)
		done += drv_req_done(&req);

	drv_request view = {};
	view.tag = drv_driver_tag(3);
	done += static_cast<int>(drv_request_index(&view) + drv_tag_index(view.tag));
	done += drv_tag_is_driver(view.tag);

	drv_sq_ring ring = {};
	ring.size = drv_sq_ring_size(4);
	if (drv_sq_room(&ring) && drv_sq_room_for_abort(&ring, 4)) {
		done += static_cast<int>(drv_sq_index(&ring));
		drv_sq_push(&ring);
	}
	drv_sq_consumed(&ring, 1);

	static uint64_t regs[2];
	drv_mmio_wr32(regs, 0, drv_mmio_rd32(regs, 4));
	drv_mmio_wr64(regs, 8, drv_mmio_rd64(regs, 0));

	drv_queue *q = nullptr;
	if (q) {
		drv_queue_set_priv(q, drv_queue_priv(q));
		done +=
		    static_cast<int>(drv_queue_id(q) + drv_queue_depth(q) + drv_queue_max_sg(q));
		done += drv_queue_dev(q) != nullptr;
		done += drv_queue_view_of(q)->priv != nullptr;
	}
	return done;
}

/* SPDX-License-Identifier: MIT */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

#define W 800
#define H 450
#define LEFT 80
#define RIGHT 80
#define TOP 50
#define BOTTOM 60
#define PW (W - LEFT - RIGHT)
#define PH (H - TOP - BOTTOM)

static void svg_begin(FILE *f, const char *title)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">",
		W, H, W, H, W / 2);
	for (const char *p = title; *p; p++) {
		if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
	fprintf(f,
		"</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"black\"/>\n",
		LEFT, TOP, PW, PH);
}

static int svg_end(FILE *f)
{
	fputs("</svg>\n", f);
	int bad = ferror(f);
	return fclose(f) || bad ? -EIO : 0;
}

static void label(FILE *f, double x, double y, const char *anchor, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", x, y, anchor,
		text);
}

/* Human unit for a nanosecond value, used on the time axis. */
static void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns >= 1e9)
		snprintf(buf, len, "%.3gs", ns / 1e9);
	else if (ns >= 1e6)
		snprintf(buf, len, "%.3gms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, len, "%.3gus", ns / 1e3);
	else
		snprintf(buf, len, "%.3gns", ns);
}

/* IOPS with a k/M suffix, used on the rate axis. */
static void fmt_rate(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.3gk", v / 1e3);
	else
		snprintf(buf, len, "%.3g", v);
}

int plot_latency(const char *path, const struct hist *h, const char *title)
{
	FILE *f = fopen(path, "w");
	unsigned first = HIST_BUCKETS, last = 0;
	uint64_t peak = 1;
	char text[32];

	if (!f)
		return -errno;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (!h->bucket[i])
			continue;
		first = i < first ? i : first;
		last = i;
		peak = h->bucket[i] > peak ? h->bucket[i] : peak;
	}
	svg_begin(f, title);
	if (first > last) {
		label(f, W / 2.0, H / 2.0, "middle", "no samples");
		return svg_end(f);
	}
	/* Whole decades around the samples, so ticks land on 1, 10, 100... */
	double lo = pow(10, floor(log10((double)hist_bucket_low(first) + 1)));
	double hi = pow(10, ceil(log10((double)hist_bucket_low(last + 1) + 1)));
	if (hi <= lo)
		hi = lo * 10;
	double span = log10(hi) - log10(lo);
	for (double d = lo; d <= hi * 1.0001; d *= 10) {
		double x = LEFT + PW * (log10(d) - log10(lo)) / span;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ccc\"/>\n",
			x, TOP, x, TOP + PH);
		fmt_ns(text, sizeof(text), d);
		label(f, x, TOP + PH + 18, "middle", text);
	}
	for (unsigned i = first; i <= last; i++) {
		if (!h->bucket[i])
			continue;
		double x0 =
		    LEFT + PW * (log10((double)hist_bucket_low(i) + 0.5) - log10(lo)) / span;
		double x1 =
		    LEFT + PW * (log10((double)hist_bucket_low(i + 1) + 0.5) - log10(lo)) / span;
		double bh = PH * (double)h->bucket[i] / (double)peak;
		fprintf(f,
			"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"fill=\"steelblue\"/>\n",
			x0, TOP + PH - bh, x1 - x0 > 0.5 ? x1 - x0 : 0.5, bh);
	}
	snprintf(text, sizeof(text), "%.1f%%", 100.0 * (double)peak / (double)h->count);
	label(f, LEFT - 6, TOP + 12, "end", text);
	label(f, LEFT - 6, TOP + PH, "end", "0");
	label(f, W / 2.0, H - 15, "middle", "request latency (submit to completion, log scale)");
	fprintf(f,
		"<text transform=\"translate(20 %d) rotate(-90)\" text-anchor=\"middle\">"
		"share of requests</text>\n",
		TOP + PH / 2);
	return svg_end(f);
}

static void polyline(FILE *f, const struct sweep_point *pts, unsigned n, double max_x, double max_y,
		     int latency, const char *colour)
{
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colour);
	for (unsigned i = 0; i < n; i++) {
		double v = latency ? (double)pts[i].r.p50 : pts[i].r.iops;
		double x = LEFT + PW * log2((double)pts[i].x) / (max_x > 0 ? max_x : 1);
		fprintf(f, "%.1f,%.1f ", x, TOP + PH - PH * v / max_y);
	}
	fputs("\"/>\n", f);
	for (unsigned i = 0; i < n; i++) {
		double v = latency ? (double)pts[i].r.p50 : pts[i].r.iops;
		double x = LEFT + PW * log2((double)pts[i].x) / (max_x > 0 ? max_x : 1);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x,
			TOP + PH - PH * v / max_y, colour);
	}
}

int plot_qd_sweep(const char *path, const struct sweep_point *pts, unsigned n, const char *title)
{
	FILE *f = fopen(path, "w");
	double max_iops = 1, max_lat = 1, max_x = 0;
	char text[48];

	if (!f)
		return -errno;
	for (unsigned i = 0; i < n; i++) {
		max_iops = pts[i].r.iops > max_iops ? pts[i].r.iops : max_iops;
		max_lat = (double)pts[i].r.p50 > max_lat ? (double)pts[i].r.p50 : max_lat;
		max_x = log2((double)pts[i].x) > max_x ? log2((double)pts[i].x) : max_x;
	}
	max_iops *= 1.1;
	max_lat *= 1.1;
	svg_begin(f, title);
	for (unsigned i = 0; i < n; i++) {
		double x = LEFT + PW * log2((double)pts[i].x) / (max_x > 0 ? max_x : 1);
		snprintf(text, sizeof(text), "%u", pts[i].x);
		label(f, x, TOP + PH + 18, "middle", text);
	}
	for (int t = 0; t <= 4; t++) {
		double y = TOP + PH - PH * t / 4.0;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			LEFT, y, LEFT + PW, y);
		fmt_rate(text, sizeof(text), max_iops * t / 4.0);
		label(f, LEFT - 6, y + 4, "end", text);
		fmt_ns(text, sizeof(text), max_lat * t / 4.0);
		label(f, LEFT + PW + 6, y + 4, "start", text);
	}
	polyline(f, pts, n, max_x, max_iops, 0, "steelblue");
	polyline(f, pts, n, max_x, max_lat, 1, "darkorange");
	label(f, W / 2.0, H - 15, "middle", "queue depth (requests in flight per queue)");
	fprintf(f,
		"<text transform=\"translate(20 %d) rotate(-90)\" text-anchor=\"middle\" "
		"fill=\"steelblue\">IOPS</text>\n",
		TOP + PH / 2);
	fprintf(f,
		"<text transform=\"translate(%d %d) rotate(90)\" text-anchor=\"middle\" "
		"fill=\"darkorange\">median latency</text>\n",
		W - 20, TOP + PH / 2);
	return svg_end(f);
}

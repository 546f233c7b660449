// Package insights owns engagement: events from every channel (the bank's
// own web app, each chat platform - Messenger, Telegram, WhatsApp - and
// partners' apps through the data API), each event on its own date,
// folded into rollups, and the reports the console shows - DAU, WAU, MAU
// and stickiness per channel, channel overlap (own app only, platforms
// only, both) and what each channel adds that no other reaches, weekly
// retention cohorts, the intent mix, payments by channel, alert open and
// answer rates - each by period, age band, product and channel.
//
// # Recording
//
// Channels call Recorder.Record, which never blocks: events wait in a
// bounded buffer (65,536 by default) and a goroutine writes them in
// batches (2,000, or whatever arrived within a second), after filling in
// each customer's segment (birth year, products) through a Segments source
// (StoreSegments reads identity and ledger, cached for an hour). When the
// buffer is full the event is dropped and counted, never waited for: a full
// buffer means the database is behind, and slowing customers down would not
// help it. Close flushes what is buffered. Stats has the counters (recorded,
// written, dropped, failed) for the metrics endpoint.
//
// # Rollups
//
// Raw events are not kept. Fold (fold.go, the one rulebook; stores only
// read and write rows) turns each batch into additions to:
//   - the daily activity table, one row per (day, customer, channel) with
//     counts per kind: the finest grain kept;
//   - spans, one row per (customer, facet) with the set of days as a bit
//     set: what makes "is this customer new here today, this week?"
//     answerable without scanning history;
//   - daily cells per (facet, day, band, products): customers that day,
//     events, amounts;
//   - window deltas per (facet, window, day, band, products) for windows of
//     7, 30, 90 and 180 days: their running sum is the number of distinct
//     customers in the window ending each day (fold.go explains why that
//     is exact, and stays exact when days arrive out of order);
//   - cohort cells per (facet, cohort week, weeks since, band, products).
//
// A facet is (metric, channel, detail): active, intent (detail: which),
// payment, alert sent/opened/answered; on a channel, on any channel, on any
// own or any platform channel, or on every channel but one (so that
// "customers only channel c reached" is a difference of two stored
// numbers). Dashboard queries read only these tables, in rows proportional
// to days x segments, never to events: the benchmark (`bankbridge-bench
// insights`, docs/insights.md) reads 10 million events' rollups in tens of
// milliseconds on either engine.
//
// # Privacy
//
// Reports are aggregates; there is no per-customer query. Every cell of
// fewer than MinCustomers (10) customers, zero included, is returned as
// suppressed (Count and Ratio carry no number then), and so is everything
// computed from it. Beyond that, privacy.go and strategy.go guard the
// derived cells a reader could work out:
//   - age bands partition customers and the page shows each band and all
//     ages, so a withheld band could be "all ages minus the others":
//     secondary suppression withholds more bands until the withheld ones
//     add up to no small group (never fewer than two when a band is
//     withheld for a reason other than its size);
//   - with a product filter, "all products minus this product" is the
//     customers of the band without it: a small group withholds the cell;
//   - the overlap and "only this channel" figures are differences of
//     reach numbers; every group of customers the published numbers
//     determine (any set of regions of the channels' Venn diagram in the
//     linear span of the published unions) must be no small group, in the
//     shown band or the total, or less detail is shown: the per-channel
//     figures one channel at a time, then own/both/platforms, then only the
//     engaged and what partnering added, then nothing;
//   - shares of the intent mix are over the published intents only.
//
// Not guarded, by design or as a known limit: differences between
// overlapping windows and consecutive days (a rolling count moving by one
// between two days says someone came or left, not who); differences across
// requests with different periods; events and money are withheld with
// their customers but not checked for dominance (one big payer). No partner
// ever reaches this package: only the console's analyst, administrator and
// compliance roles.
//
// It must never import net/http or a store, never keep a raw event or a
// customer's identity beyond the ids in spans and activity rows, and never
// return a number for a suppressed cell.
//
// # Known limits
//
//   - A customer counts, in a window, in the segment of their first active
//     day in it, and in a cohort in the segment of their first day; a
//     customer whose band or products changed within a window may be
//     counted in another segment by another facet, so derived differences
//     per segment can be off by such customers (clamped at zero).
//   - A customer-day's segment is taken from the first batch that
//     recorded it; a day that arrives later, before a stored day, reads the
//     stored day's segment from the activity table.
//   - Queries sum window deltas from the first day: cost grows with
//     history (days x segments), fine for years but not decades without
//     compaction.
//   - Adding a channel adds "all but" facets from then on; earlier windows
//     overstate what the new channel alone reaches until they age out.
//   - Periods are 7, 30, 90 or 180 days ending on any day; Windows holds
//     the lengths rollups are kept for.
//   - Ingest is serialised (one batch at a time across processes, by an
//     advisory lock on PostgreSQL): about 35,000 events/s on SQLite, 21,000
//     on PostgreSQL on the benchmark machine, plenty for one bank.
package insights

package dataapi

import (
	"net/url"
	"strconv"
	"time"
)

// FDX 6.4's query parameters, shared by the endpoints that take them
// (Plaid Core Exchange 6.4, components.parameters: LimitQuery, OffsetQuery,
// PageKeyQuery, StartTimeQuery, EndTimeQuery, StartDateQuery,
// EndDateQuery).
var (
	pageParams = []string{"offset", "pageKey", "limit"}
	timeParams = []string{"startTime", "endTime", "startDate", "endDate"}
)

// limitParam reads limit: absent is def, else a whole number from 1 to max.
func limitParam(q url.Values, def, max int) (int, error) {
	if !q.Has("limit") {
		return def, nil
	}
	v := q.Get("limit")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max || len(v) > 4 {
		msg := "limit must be a whole number from 1 to " + strconv.Itoa(max)
		return 0, fieldErr(errParam.WithMessage(msg), "/query/limit", "1 to "+strconv.Itoa(max))
	}
	return n, nil
}

// pageKeyParam returns the opaque cursor of a paged request: pageKey, or
// offset, which FDX 6.4 keeps as pageKey's deprecated older name (both
// carry the nextPageKey / nextOffset the previous page gave); has is
// false without either. Both at once are refused.
func pageKeyParam(q url.Values) (key, name string, has bool, err error) {
	switch {
	case q.Has("pageKey") && q.Has("offset"):
		return "", "", false, fieldErr(errParam.WithMessage("give pageKey or offset, not both"), "/query/offset", "offset is pageKey's older name")
	case q.Has("pageKey"):
		return q.Get("pageKey"), "pageKey", true, nil
	case q.Has("offset"):
		return q.Get("offset"), "offset", true, nil
	}
	return "", "", false, nil
}

// timeRange reads an FDX time range: startTime/endTime (a date or an
// RFC 3339 time) or startDate/endDate (dates, both or neither, the end day
// included: FDX 6.4 StartDateQuery/EndDateQuery), not both kinds. It
// returns zero times for what is not given; from is inclusive, to
// exclusive.
func timeRange(q url.Values) (from, to time.Time, err error) {
	byTime, byDate := q.Has("startTime") || q.Has("endTime"), q.Has("startDate") || q.Has("endDate")
	switch {
	case byTime && byDate:
		return from, to, fieldErr(errParam.WithMessage("give startTime/endTime or startDate/endDate, not both"), "/query/startDate", "one kind of range")
	case byDate:
		if !q.Has("startDate") || !q.Has("endDate") {
			// FDX 6.4 StartDateQuery: one without the other is an invalid range (703).
			return from, to, errTimeRange.WithMessage("give both startDate and endDate, or neither")
		}
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"startDate", &from}, {"endDate", &to}} {
			t, perr := time.Parse(time.DateOnly, q.Get(p.name))
			if perr != nil || t.Year() < 1970 || t.Year() > 9999 {
				return from, to, fieldErr(errParam.WithMessage(p.name+" must be a date (2026-05-01)"), "/query/"+p.name, "a date, YYYY-MM-DD")
			}
			*p.dst = t
		}
		to = to.AddDate(0, 0, 1) // endDate is included
		if to.Before(from.AddDate(0, 0, 1)) {
			return from, to, errTimeRange.WithMessage("startDate must not be after endDate")
		}
	case byTime:
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"startTime", &from}, {"endTime", &to}} {
			if !q.Has(p.name) {
				continue
			}
			t, ok := parseTime(q.Get(p.name))
			if !ok {
				return from, to, fieldErr(errParam.WithMessage(p.name+" must be a date (2026-05-01) or an RFC 3339 time"), "/query/"+p.name, "a date or RFC 3339 time")
			}
			*p.dst = t
		}
		if !from.IsZero() && !to.IsZero() && !from.Before(to) {
			return from, to, errTimeRange.WithMessage("startTime must be before endTime")
		}
	}
	return from, to, nil
}

// pageOf returns the part of a list of n elements that a paged request
// asks for, [start, end), and the key of the next page ("" on the last),
// for the list named scope.
func (c *call) pageOf(n, def, max int, scope string) (start, end int, next string, err error) {
	q := c.r.URL.Query()
	limit, err := limitParam(q, def, max)
	if err != nil {
		return 0, 0, "", err
	}
	if key, _, has, err := pageKeyParam(q); err != nil {
		return 0, 0, "", err
	} else if has {
		i, ok := c.s.ids.openIndex(c.partner, scope, key)
		if !ok || i > n {
			return 0, 0, "", errPageKey
		}
		start = i
	}
	end = min(start+limit, n)
	if end < n {
		next = c.s.ids.sealIndex(c.partner, scope, end)
	}
	return start, end, next, nil
}

// statementPage narrows an account's statement months (newest first) to
// the query's range (a statement is in it when its statementDate, the
// month's last day, is) and page.
func (c *call) statementPage(months []time.Time) ([]time.Time, *PageMetadata, error) {
	from, to, err := timeRange(c.r.URL.Query())
	if err != nil {
		return nil, nil, err
	}
	var in []time.Time
	for _, m := range months {
		d := m.AddDate(0, 1, -1)
		if (from.IsZero() || !d.Before(from.Truncate(24*time.Hour))) && (to.IsZero() || d.Before(to)) {
			in = append(in, m)
		}
	}
	start, end, next, err := c.pageOf(len(in), maxStatements, maxStatements, "statements/"+c.r.PathValue("accountId"))
	if err != nil {
		return nil, nil, err
	}
	var page *PageMetadata
	if next != "" {
		page = &PageMetadata{NextPageKey: next, NextOffset: next}
	}
	return in[start:end], page, nil
}

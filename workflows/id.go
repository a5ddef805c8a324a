package workflows

import "time"

// CycleID is the workflow ID of the cycle settling contractID for the period
// ending at periodEnd. Starting the same cycle twice therefore hits the same
// workflow. Contract IDs are URL-safe by validation, and the time is written
// in UTC without separators that need escaping; seconds appear only when the
// period end has them, so minute-aligned schedules keep short IDs.
func CycleID(contractID string, periodEnd time.Time) string {
	t := periodEnd.UTC()
	layout := "20060102T1504Z"
	if t.Second() != 0 || t.Nanosecond() != 0 {
		layout = "20060102T150405Z"
	}
	return "cycle-" + contractID + "-" + t.Format(layout)
}

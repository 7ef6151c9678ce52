// Each test class starts its own cluster of several .NET processes: one at a time, so that on a small machine the
// clusters neither starve each other's membership probes (a starved silo is declared dead) nor skew the timings
// the failure tests report.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

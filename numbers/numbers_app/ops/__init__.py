"""Running it with your eyes open: the state gauges read at scrape time (`gauges`), the /metrics
exposition and its access rule (`exposition`), and the worker's task metrics (`worker`). The counters
of Staffify calls are the client's own (numbers_app.staffify.metrics); the request metrics and the
request id are middleware (numbers_app.web.middleware); the log format is numbers_app.logs."""

# Refit survival tables in R (survival, sandwich) for tests/test_analysis_r.py.
# Usage: Rscript survival_fits.R DIR. DIR/jobs.csv lists endpoint, covariates (space-separated),
# stratified (0/1) and horizon; DIR/<endpoint>.csv is the survival table and DIR/<endpoint>_pp.csv
# its person-period rows with the period labels. Writes DIR/<endpoint>_<quantity>.csv.
suppressMessages({
  library(survival)
  library(sandwich)
})

dir <- commandArgs(trailingOnly = TRUE)[1]
jobs <- read.csv(file.path(dir, "jobs.csv"), stringsAsFactors = FALSE)
out <- function(endpoint, quantity, frame) {
  write.csv(frame, file.path(dir, paste0(endpoint, "_", quantity, ".csv")), row.names = FALSE)
}

# Firth's penalized log partial likelihood at b: R's own Efron likelihood and information (coxph with no
# iterations), plus half the log determinant of the information.
firth_at <- function(formula, data, b) {
  fit <- suppressWarnings(coxph(formula, data, ties = "efron", init = b, control = coxph.control(iter.max = 0)))
  information <- solve(fit$var)
  list(value = fit$loglik[2] + 0.5 * as.numeric(determinant(information)$modulus), information = information)
}

# Maximise over b[free] by Newton steps: central-difference gradient, the information as the Hessian,
# a step halved until the penalized likelihood does not fall.
maximise <- function(formula, data, start, free) {
  value <- function(b) firth_at(formula, data, b)$value
  b <- start
  for (iteration in 1:100) {
    at <- firth_at(formula, data, b)
    gradient <- sapply(free, function(j) {
      e <- replace(numeric(length(b)), j, 1e-5)
      (value(b + e) - value(b - e)) / 2e-5
    })
    step <- solve(at$information[free, free, drop = FALSE], gradient)
    for (halving in 1:40) {
      candidate <- replace(b, free, b[free] + step)
      if (value(candidate) >= at$value - 1e-12) break
      step <- step / 2
    }
    b <- candidate
    if (max(abs(step)) < 1e-8) break
  }
  list(par = b, value = value(b))
}

# Firth estimates, and for the first covariate its profile-likelihood 95% interval and the penalized
# likelihood-ratio p for a zero coefficient.
firth_fit <- function(formula, data, p) {
  fit <- maximise(formula, data, rep(0, p), seq_len(p))
  excess <- function(v) {
    start <- replace(fit$par, 1, v)
    profile <- if (p == 1) firth_at(formula, data, start)$value else maximise(formula, data, start, 2:p)$value
    2 * (fit$value - profile) - qchisq(0.95, 1)
  }
  b <- fit$par[1]
  lower <- uniroot(excess, c(b - 5, b), tol = 1e-9)$root
  upper <- uniroot(excess, c(b, b + 5), tol = 1e-9)$root
  p_value <- pchisq(excess(0) + qchisq(0.95, 1), 1, lower.tail = FALSE)
  list(coef = fit$par, lower = lower, upper = upper, p = p_value)
}

for (i in seq_len(nrow(jobs))) {
  job <- jobs[i, ]
  endpoint <- job$endpoint
  covariates <- strsplit(job$covariates, " ")[[1]]
  data <- read.csv(file.path(dir, paste0(endpoint, ".csv")), stringsAsFactors = FALSE)
  rhs <- paste(covariates, collapse = " + ")
  if (job$stratified == 1) rhs <- paste(rhs, "+ strata(seed)")
  formula <- as.formula(paste("Surv(duration, event) ~", rhs))

  control <- coxph.control(eps = 1e-10, iter.max = 100)
  # pooled seeds: a fact's rows form one cluster of the robust errors, as the library reports them
  cox <- if (job$stratified == 1) {
    coxph(formula, data, ties = "efron", cluster = fact_id, control = control)
  } else {
    coxph(formula, data, ties = "efron", control = control)
  }
  out(endpoint, "cox", data.frame(covariate = names(coef(cox)), coef = coef(cox), se = sqrt(diag(vcov(cox))),
                                  concordance = unname(cox$concordance["concordance"])))
  zph <- cox.zph(cox)  # survival >= 3: transform "km", full information matrix
  out(endpoint, "zph", data.frame(term = rownames(zph$table), zph$table))

  firth <- firth_fit(formula, data, length(covariates))
  out(endpoint, "firth", data.frame(covariate = covariates, coef = firth$coef))
  out(endpoint, "firth_profile", data.frame(covariate = covariates[1], lower = firth$lower, upper = firth$upper,
                                            p = firth$p))

  times <- 0:job$horizon
  km_rows <- list()
  curves <- list(all = survfit(Surv(duration, event) ~ 1, data, conf.type = "log-log"))
  for (level in sort(unique(data$knowledge))) {
    curves[[level]] <- survfit(Surv(duration, event) ~ 1, data[data$knowledge == level, ], conf.type = "log-log")
  }
  for (level in names(curves)) {
    s <- summary(curves[[level]], times = times, extend = TRUE)
    km_rows[[level]] <- data.frame(knowledge = level, epoch = s$time, survival = s$surv,
                                   ci_lower = s$lower, ci_upper = s$upper)
  }
  out(endpoint, "km", do.call(rbind, km_rows))
  if (length(unique(data$knowledge)) > 1) {
    out(endpoint, "logrank", data.frame(chisq = survdiff(Surv(duration, event) ~ knowledge, data)$chisq))
  }

  pp <- read.csv(file.path(dir, paste0(endpoint, "_pp.csv")), stringsAsFactors = FALSE)
  pp$period <- factor(pp$period, levels = unique(pp$period))
  rhs <- paste(c("0 + period", if (job$stratified == 1) "factor(seed)", covariates), collapse = " + ")
  glm_fit <- glm(as.formula(paste("y ~", rhs)), binomial(link = "cloglog"), data = pp,
                 control = glm.control(epsilon = 1e-14, maxit = 100))
  robust <- vcovCL(glm_fit, cluster = pp$fact_id)
  out(endpoint, "discrete", data.frame(covariate = covariates, coef = coef(glm_fit)[covariates],
                                       se = sqrt(diag(robust))[covariates]))
}

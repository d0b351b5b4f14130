"""The Prometheus scraper role: ``PrometheusScraper`` and ``scrape_target``."""

from otel_fargate.scraper.construct import PrometheusScraper
from otel_fargate.scraper.targets import scrape_target

__all__ = ["PrometheusScraper", "scrape_target"]

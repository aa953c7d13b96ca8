"""Names shared by the data generator, the runner and the write scenario."""

# Every generated account has this password (one precomputed Argon2 hash).
PASSWORD = "bench-Pass-2026!"

ADMIN = "bench_admin"
CLIENT = "bench_client"
SPECIALIST = "bench_specialist"  # has a full week of slots in the current week
WRITER_SPECIALISTS = [f"bench_writer_spec_{i}" for i in range(1, 5)]
# Three clients per writer specialist, all requesting that specialist's slots.
WRITER_CLIENTS = [f"bench_writer_client_{i:02d}" for i in range(1, 13)]
WRITER_SLOTS_EACH = 1200
WRITER_SPECIALTY = "Bench writer"

SPECIALTIES = [
    "Psychologist", "Family therapist", "Lawyer", "Tax advisor", "Nutritionist", "Career coach",
    "Speech therapist", "Physiotherapist", "Financial planner", "Language tutor", "Dermatologist",
    "Pediatrician", "Accountant", "Architect", "Fitness coach", "Sleep consultant", "Real estate advisor",
    "Immigration advisor", "IT mentor", "Music teacher",
]  # fmt: skip

TIMEZONES = [
    "UTC", "Europe/Berlin", "Europe/Moscow", "Europe/London", "America/New_York", "America/Los_Angeles",
    "Asia/Vladivostok", "Asia/Kolkata", "Australia/Sydney", "Asia/Tokyo",
]  # fmt: skip

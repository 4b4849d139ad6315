"""NS life-cycle management as durable workflows (later issue)."""

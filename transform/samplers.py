"""A1111 sampler names (transform.params.SAMPLER_NAMES) to diffusers schedulers.

Where diffusers has no exact equivalent the nearest one is used and named: the actual scheduler is
recorded next to the requested sampler (docs/ENGINE.md has the table and the reasons).
"""

from dataclasses import dataclass

from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    DPMSolverSinglestepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    UniPCMultistepScheduler,
)


@dataclass(frozen=True)
class SchedulerChoice:
    scheduler_class: type
    overrides: dict

    def describe(self):
        settings = ", ".join(f"{key}={value}" for key, value in self.overrides.items())
        return f"{self.scheduler_class.__name__}({settings})"


SCHEDULERS = {
    "Euler a": SchedulerChoice(EulerAncestralDiscreteScheduler, {}),
    "Euler": SchedulerChoice(EulerDiscreteScheduler, {}),
    "DPM++ 2M": SchedulerChoice(
        DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False}
    ),
    "DPM++ 2M Karras": SchedulerChoice(
        DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}
    ),
    # No diffusers equivalent: same family (single-step, second order, fresh noise every step) but one
    # model call per step where A1111 makes two, and SDE noise instead of ancestral steps.
    "DPM++ 2S a": SchedulerChoice(
        DPMSolverSinglestepScheduler, {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "lower_order_final": True}
    ),
    # DPMSolverSDEScheduler would match but needs torchsde (not installed) and is only seedable through
    # its own noise_sampler_seed; DPM++ 2M SDE Karras is the nearest seedable stochastic solver.
    "DPM++ SDE Karras": SchedulerChoice(
        DPMSolverMultistepScheduler, {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}
    ),
    "DDIM": SchedulerChoice(DDIMScheduler, {}),
    "UniPC": SchedulerChoice(UniPCMultistepScheduler, {}),
}


def make_scheduler(sampler_name, base_config):
    """A fresh scheduler for an A1111 sampler name, built on the model's own scheduler config."""
    choice = SCHEDULERS[sampler_name]
    return choice.scheduler_class.from_config(base_config, **choice.overrides)  # type: ignore[attr-defined]


def describe_scheduler(sampler_name):
    """The diffusers scheduler actually used for a sampler name, e.g. for the infotext."""
    return SCHEDULERS[sampler_name].describe()

# Learned oracles: for each entry of config["models"], prepare its data, train a masked-diffusion
# denoiser (resumable; on a GPU when there is one) and evaluate every schedule through it
# (logic in mdmsched.mdm.pipeline).


rule prepare_data:
    output:
        f"{DATA_DIR}/{{model}}.npz",
    params:
        spec=lambda wildcards: MODELS[wildcards.model],
        seed=config["seed"],
    log:
        f"{RESULTS}/logs/prepare_data/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare_data/{{model}}.tsv"
    threads: 1
    priority: 10
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/prepare_data.py"


rule train_model:
    input:
        f"{DATA_DIR}/{{model}}.npz",
    output:
        checkpoint=f"{MODELS_DIR}/{{model}}.pt",
        history=training_history("{model}"),
    params:
        spec=lambda wildcards: MODELS[wildcards.model],
        partial_dir=f"{MODELS_DIR}/partial",
    log:
        f"{RESULTS}/logs/train_model/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_model/{{model}}.tsv"
    threads: lambda wildcards: model_resource(wildcards.model, "threads")
    # the longest jobs start first, so that the short ones fill the other cores around them
    priority: 10
    resources:
        mem_mb=lambda wildcards: model_resource(wildcards.model, "mem_mb"),
        runtime=lambda wildcards: model_resource(wildcards.model, "runtime"),
        gpu=lambda wildcards: model_resource(wildcards.model, "gpu"),
    conda:
        ENV
    script:
        "../scripts/train_model.py"


rule evaluate_model:
    input:
        data=f"{DATA_DIR}/{{model}}.npz",
        checkpoint=f"{MODELS_DIR}/{{model}}.pt",
    output:
        **{table: learned_table("{model}", table) for table in MODEL_TABLES},
        schedule_plan=schedule_plan("{model}"),
    params:
        spec=lambda wildcards: MODELS[wildcards.model],
        seed=config["seed"],
    log:
        f"{RESULTS}/logs/evaluate_model/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_model/{{model}}.tsv"
    threads: lambda wildcards: model_resource(wildcards.model, "threads")
    priority: 5
    resources:
        mem_mb=lambda wildcards: model_resource(wildcards.model, "mem_mb"),
        runtime=lambda wildcards: model_resource(wildcards.model, "runtime"),
    conda:
        ENV
    script:
        "../scripts/evaluate_model.py"

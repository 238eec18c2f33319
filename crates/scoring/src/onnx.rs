//! Thin wrapper over tract: load an ONNX file with a fixed input shape, run single-threaded.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::error::ScoringError;

#[derive(Debug)]
pub struct OnnxModel {
    name: String,
    shape: Vec<usize>,
    plan: Arc<TypedRunnableModel>,
}

impl OnnxModel {
    /// Load `path` with input 0 fixed to `shape` (f32) and optimise it for CPU execution.
    pub fn load(path: &Path, shape: &[usize]) -> Result<Self, ScoringError> {
        let name = path.display().to_string();
        let err = |e: TractError| ScoringError::ModelLoad {
            path: name.clone(),
            reason: format!("{e:#}"),
        };
        let model = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(err)?
            .with_input_fact(0, f32::fact(shape).into())
            .map_err(err)?
            .into_optimized()
            .map_err(err)?;
        // Explicitly single-threaded: no parallel reductions, so results are reproducible.
        let options = RunOptions {
            executor: Some(multithread::Executor::SingleThread),
            ..Default::default()
        };
        let plan = model.into_runnable_with_options(&options).map_err(err)?;
        Ok(OnnxModel {
            name,
            shape: shape.to_vec(),
            plan,
        })
    }

    /// Run on a flat input of the load-time shape; returns every output flattened.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>, ScoringError> {
        let err = |e: TractError| ScoringError::Inference {
            model: self.name.clone(),
            reason: format!("{e:#}"),
        };
        let t = tract_ndarray::ArrayD::from_shape_vec(self.shape.clone(), input)
            .map_err(|e| ScoringError::Inference {
                model: self.name.clone(),
                reason: e.to_string(),
            })?
            .into_tensor();
        let out = self.plan.run(tvec!(t.into_tvalue())).map_err(err)?;
        let mut res = Vec::with_capacity(out.len());
        for o in out.iter() {
            let view = o.to_plain_array_view::<f32>().map_err(err)?;
            res.push(view.iter().copied().collect());
        }
        Ok(res)
    }
}

"""OData pieces shared across integrator: ``$filter`` parsing, evaluation and compilation."""

<?php
/**
 * WordPress-like lab stub for wp-includes/block-bindings/pattern-overrides.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-bindings/pattern-overrides.php';

<?php
/**
 * WordPress-like lab stub for wp-includes/block-bindings.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-bindings.php';

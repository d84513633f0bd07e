<?php
/**
 * WordPress-like lab stub for wp-includes/block-patterns.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-patterns.php';

<?php
/**
 * WordPress-like lab stub for wp-includes/style-engine.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'style-engine.php';

<?php
/**
 * WordPress-like lab stub for wp-includes/kses.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'kses.php';
